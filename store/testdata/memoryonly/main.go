// memoryonly is a program that keeps its sessions in memory: TestMemoryOnlyLinks
// lists what it links, which must not include the Redis, keyring or DynamoDB
// stores, the identity pool, the hosted UI or gRPC.
package main

import (
	"context"
	"log"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/session"
	"github.com/cogauth/cogauth/store"
)

func main() {
	c, err := cognito.New(cognito.Options{UserPoolID: "eu-west-1_AbCdEf123", ClientID: "1example23456789"})
	if err != nil {
		log.Fatal(err)
	}
	m, err := session.New(session.Config{Cognito: c, Store: store.NewMemory()})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Fetch(context.Background(), session.FetchOptions{}); err != nil {
		log.Print(err)
	}
}
