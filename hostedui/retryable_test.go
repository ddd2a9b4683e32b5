package hostedui_test

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// retryable is aws-sdk-go-v2's verdict on err (retry.RetryableError reads the
// RetryableError() bool behaviour): what an SDK retryer decides.
func retryable(err error) bool {
	return retry.RetryableError{}.IsErrorRetryable(err) == aws.TrueTernary
}
