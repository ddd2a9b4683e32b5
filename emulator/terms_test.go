package emulator_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestTermsDocuments: the five terms operations through aws-sdk-go-v2, and the
// hosted UI's sign-in page linking both documents once the client has them, in
// the page's language.
func TestTermsDocuments(t *testing.T) {
	f := newOAuthFixture(t)
	ctx := context.Background()
	api := adminSDK(f.srv)
	pool := aws.String(f.pool)
	create := func(name string, links map[string]string) (*cip.CreateTermsOutput, error) {
		return api.CreateTerms(ctx, &cip.CreateTermsInput{UserPoolId: pool, ClientId: aws.String(f.public), TermsName: aws.String(name),
			TermsSource: types.TermsSourceTypeLink, Enforcement: types.TermsEnforcementTypeNone, Links: links})
	}
	loginPage := func(lang string) string {
		q, _ := url.ParseQuery(strings.SplitN(authorizeURL(f, f.public, nil), "?", 2)[1])
		if lang != "" {
			q.Set("lang", lang)
		}
		_, body := get(t, browser(t), f.srv.URL+"/login?"+q.Encode())
		return body
	}

	tou, err := create("terms-of-use", map[string]string{"cognito:default": "https://example.com/terms", "cognito:spanish": "https://example.com/es/terms"})
	if err != nil {
		t.Fatal(err)
	}
	if tou.Terms.TermsId == nil || aws.ToString(tou.Terms.ClientId) != f.public || tou.Terms.CreationDate == nil || tou.Terms.Links["cognito:spanish"] == "" {
		t.Fatalf("CreateTerms answered %+v", tou.Terms)
	}
	if strings.Contains(loginPage(""), "termsDocuments") {
		t.Error("the sign-in page links terms before the client has both documents")
	}
	var tee *types.TermsExistsException
	if _, err := create("terms-of-use", map[string]string{"cognito:default": "https://example.com/other"}); !errors.As(err, &tee) {
		t.Errorf("a second terms-of-use: %v", err)
	}
	var ipe *types.InvalidParameterException
	for name, links := range map[string]map[string]string{
		"cookie-policy":  {"cognito:default": "https://example.com/c"},
		"privacy-policy": {"english": "https://example.com/p"},
	} {
		if _, err := create(name, links); !errors.As(err, &ipe) {
			t.Errorf("CreateTerms %s %v: %v", name, links, err)
		}
	}
	pp, err := create("privacy-policy", map[string]string{"cognito:default": "https://example.com/privacy"})
	if err != nil {
		t.Fatal(err)
	}
	page := loginPage("")
	if !strings.Contains(page, `id="termsDocuments"`) || !strings.Contains(page, `href="https://example.com/terms"`) || !strings.Contains(page, `href="https://example.com/privacy"`) {
		t.Errorf("sign-in page without the terms: %s", page)
	}
	if page := loginPage("es"); !strings.Contains(page, `href="https://example.com/es/terms"`) || !strings.Contains(page, `href="https://example.com/privacy"`) {
		t.Errorf("Spanish sign-in page: %s", page)
	}

	list, err := api.ListTerms(ctx, &cip.ListTermsInput{UserPoolId: pool, MaxResults: aws.Int32(1)})
	if err != nil || len(list.Terms) != 1 || list.NextToken == nil {
		t.Fatalf("ListTerms page 1: %v %+v", err, list)
	}
	list2, err := api.ListTerms(ctx, &cip.ListTermsInput{UserPoolId: pool, NextToken: list.NextToken})
	if err != nil || len(list2.Terms) != 1 || aws.ToString(list2.Terms[0].TermsId) == aws.ToString(list.Terms[0].TermsId) {
		t.Fatalf("ListTerms page 2: %v %+v", err, list2)
	}

	up, err := api.UpdateTerms(ctx, &cip.UpdateTermsInput{UserPoolId: pool, TermsId: pp.Terms.TermsId, Links: map[string]string{"cognito:default": "https://example.com/privacy-v2"}})
	if err != nil || up.Terms.Links["cognito:default"] != "https://example.com/privacy-v2" || aws.ToString(up.Terms.TermsName) != "privacy-policy" {
		t.Fatalf("UpdateTerms: %v %+v", err, up)
	}
	if _, err := api.UpdateTerms(ctx, &cip.UpdateTermsInput{UserPoolId: pool, TermsId: pp.Terms.TermsId, TermsName: aws.String("terms-of-use")}); !errors.As(err, &tee) {
		t.Errorf("renaming to the other document's name: %v", err)
	}
	d, err := api.DescribeTerms(ctx, &cip.DescribeTermsInput{UserPoolId: pool, TermsId: pp.Terms.TermsId})
	if err != nil || d.Terms.Links["cognito:default"] != "https://example.com/privacy-v2" {
		t.Fatalf("DescribeTerms: %v", err)
	}
	if !strings.Contains(loginPage(""), "privacy-v2") {
		t.Error("the sign-in page shows the old link")
	}
	if _, err := api.DeleteTerms(ctx, &cip.DeleteTermsInput{UserPoolId: pool, TermsId: tou.Terms.TermsId}); err != nil {
		t.Fatal(err)
	}
	var rnf *types.ResourceNotFoundException
	if _, err := api.DescribeTerms(ctx, &cip.DescribeTermsInput{UserPoolId: pool, TermsId: tou.Terms.TermsId}); !errors.As(err, &rnf) {
		t.Errorf("DescribeTerms of deleted terms: %v", err)
	}
	if strings.Contains(loginPage(""), "termsDocuments") {
		t.Error("the sign-in page links terms after one was deleted")
	}
	if _, err := api.DescribeTerms(ctx, &cip.DescribeTermsInput{UserPoolId: pool, TermsId: aws.String("not-a-uuid")}); !errors.As(err, &ipe) {
		t.Errorf("DescribeTerms of a malformed ID: %v", err)
	}
}
