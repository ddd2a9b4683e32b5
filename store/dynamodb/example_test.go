package dynamostore_test

import (
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	dynamostore "github.com/cogauth/cogauth/store/dynamodb"
)

// Replicas of a service on AWS (Lambda, ECS) share sessions in one DynamoDB
// table; its refresh lock makes a session refresh once across all of them.
func ExampleNew() {
	cfg := aws.Config{Region: "eu-west-1"} // in a program: config.LoadDefaultConfig(ctx)
	sessions, err := dynamostore.New(dynamodb.NewFromConfig(cfg), dynamostore.Options{
		Table: "myapp-sessions", // CreateTable makes one (Time to Live on), or your infrastructure code
	})
	if err != nil {
		log.Fatal(err)
	}
	// websession.New(websession.Config{…, Store: sessions}) or
	// session.New(session.Config{Cognito: c, Store: sessions})
	_ = sessions
}
