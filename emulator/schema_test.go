package emulator_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogauth/cogauth/emulator"
)

// TestSchemaCustomAttributesPrefixed: custom attributes CreateUserPool declares
// by bare name are the pool's custom:NAME, listed after the standard attributes
// by DescribeUserPool and in GetCSVHeader (the bug of issue 21).
func TestSchemaCustomAttributesPrefixed(t *testing.T) {
	srv := emulator.NewServer(emulator.Options{})
	t.Cleanup(srv.Close)
	c := sdk(srv)
	ctx := context.Background()
	created, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("schema"), Schema: []types.SchemaAttributeType{
		{Name: aws.String("tier"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)},
		{Name: aws.String("email"), AttributeDataType: types.AttributeDataTypeString, Required: aws.Bool(true)},
		{Name: aws.String("secretish"), AttributeDataType: types.AttributeDataTypeNumber, DeveloperOnlyAttribute: aws.Bool(true)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id := created.UserPool.Id
	d, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: id})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]types.SchemaAttributeType{}
	for _, a := range d.UserPool.SchemaAttributes {
		names = append(names, aws.ToString(a.Name))
		byName[aws.ToString(a.Name)] = a
	}
	for _, want := range []string{"sub", "name", "email", "email_verified", "phone_number", "updated_at", "custom:tier", "dev:custom:secretish"} {
		if _, ok := byName[want]; !ok {
			t.Errorf("SchemaAttributes %v lack %s", names, want)
		}
	}
	if _, ok := byName["tier"]; ok {
		t.Errorf("SchemaAttributes %v hold the bare name tier", names)
	}
	if names[0] != "sub" || slices.Index(names, "custom:tier") < slices.Index(names, "updated_at") {
		t.Errorf("order %v: standard attributes first, custom ones after", names)
	}
	if !aws.ToBool(byName["email"].Required) || aws.ToBool(byName["name"].Required) || !aws.ToBool(byName["sub"].Required) {
		t.Errorf("email Required %v, name %v, sub %v", aws.ToBool(byName["email"].Required), aws.ToBool(byName["name"].Required), aws.ToBool(byName["sub"].Required))
	}
	h, err := c.GetCSVHeader(ctx, &cip.GetCSVHeaderInput{UserPoolId: id})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(h.CSVHeader, "custom:tier") || slices.Contains(h.CSVHeader, "dev:custom:secretish") ||
		h.CSVHeader[len(h.CSVHeader)-1] != "cognito:username" {
		t.Errorf("CSV header %v", h.CSVHeader)
	}
	_, err = c.AddCustomAttributes(ctx, &cip.AddCustomAttributesInput{UserPoolId: id, CustomAttributes: []types.SchemaAttributeType{
		{Name: aws.String("tier"), AttributeDataType: types.AttributeDataTypeString}}})
	if err == nil || !strings.Contains(err.Error(), "custom:tier") {
		t.Errorf("AddCustomAttributes of an existing name: %v", err)
	}
	_, err = c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("bad"), Schema: []types.SchemaAttributeType{
		{Name: aws.String("email"), AttributeDataType: types.AttributeDataTypeNumber}}})
	var ipe *types.InvalidParameterException
	if !errors.As(err, &ipe) {
		t.Errorf("a standard attribute of another type: %v", err)
	}
}
