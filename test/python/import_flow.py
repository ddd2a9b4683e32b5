"""Import users from a CSV file with boto3, as Cognito's developer guide does it.

Usage: import_flow.py ENDPOINT_URL WORKDIR

Follows "Importing users into user pools from a CSV file": get_csv_header, a
CSV file written under that header, create_user_import_job, the upload with the
guide's own command (curl -v -T FILE -H "x-amz-server-side-encryption:aws:kms"
PRE_SIGNED_URL), start_user_import_job, describe_user_import_job until the job
ends, list_user_import_jobs; then an imported user resets their password
(PasswordResetRequiredException, forgot_password, confirm_forgot_password with
the code from the emulator's outbox) and signs in. A job with a bad header and
a stopped job too. The Go test emulator/importjobs_test.go runs it against the
emulator. It prints one JSON object with what it saw and exits non-zero on the
first surprise.
"""
import json
import os
import subprocess
import sys
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/CognitoImportRole"
DONE = ("Succeeded", "Failed", "Stopped", "Expired")


def code_of(err):
    return err.response["Error"]["Code"]


def main(endpoint, workdir):
    idp = boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    out = {}
    pool_id = idp.create_user_pool(
        PoolName="import-pool",
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "tier", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="existing", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "existing@example.com"}])

    header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    out["header"] = header

    def row(**values):
        return ",".join(values.get(h.replace(":", "_"), "") for h in header)

    rows = [
        # imported, with a comma in the address written \, as the guide asks
        row(cognito_username="jane", name="Jane Doe", email="jane@example.com", email_verified="true",
            cognito_mfa_enabled="false", custom_tier="gold", address="1 Main St\\, Springfield",
            birthdate="02/01/1985", updated_at="1471453471"),
        row(cognito_username="john", email="john@example.com", email_verified="true", cognito_mfa_enabled="false",
            phone_number="+15555550123", phone_number_verified="false"),
        # skipped: the user exists
        row(cognito_username="existing", email="existing@example.com", email_verified="true", cognito_mfa_enabled="false"),
        # failed: no auto-verified attribute is true
        row(cognito_username="unverified", email="u@example.com", email_verified="false", cognito_mfa_enabled="false"),
        # failed: cognito:mfa_enabled empty
        row(cognito_username="nomfa", email="n@example.com", email_verified="true"),
        # failed: a username with a space
        row(cognito_username="two words", email="t@example.com", email_verified="true", cognito_mfa_enabled="false"),
    ]
    good = os.path.join(workdir, "users.csv")
    with open(good, "w", encoding="utf-8") as f:
        f.write(",".join(header) + "\n" + "\n".join(rows) + "\n")

    def upload(job, path):
        # The developer guide's command, as is.
        res = subprocess.run(
            ["curl", "-v", "-T", path, "-H", "x-amz-server-side-encryption:aws:kms", job["PreSignedUrl"]],
            capture_output=True, text=True, timeout=60,
        )
        return res.returncode == 0 and "We are completely uploaded and fine" in res.stderr and "< HTTP/1.1 200" in res.stderr

    def wait(job_id):
        for _ in range(50):
            job = idp.describe_user_import_job(UserPoolId=pool_id, JobId=job_id)["UserImportJob"]
            if job["Status"] in DONE:
                return job
        raise SystemExit("import job did not end: " + job["Status"])

    job = idp.create_user_import_job(JobName="first-import", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    out["created"] = {k: job[k] for k in ("Status", "ImportedUsers", "SkippedUsers", "FailedUsers")}
    out["uploaded"] = upload(job, good)
    started = idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]
    out["startStatus"] = started["Status"]
    done = wait(job["JobId"])
    out["done"] = {k: done.get(k) for k in ("Status", "ImportedUsers", "SkippedUsers", "FailedUsers", "CompletionMessage")}
    out["hasDates"] = all(k in done for k in ("CreationDate", "StartDate", "CompletionDate"))

    try:
        idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
        out["restart"] = "accepted"
    except ClientError as err:
        out["restart"] = code_of(err)

    jane = idp.admin_get_user(UserPoolId=pool_id, Username="jane")
    out["janeStatus"] = jane["UserStatus"]
    out["janeAttributes"] = {a["Name"]: a["Value"] for a in jane["UserAttributes"] if a["Name"] != "sub"}

    # The imported user must reset: whatever the password, PasswordResetRequiredException.
    try:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": "jane", "PASSWORD": "Any-Password-1"})
        out["signInBeforeReset"] = "accepted"
    except ClientError as err:
        out["signInBeforeReset"] = code_of(err)
    idp.forgot_password(ClientId=client_id, Username="jane")
    with urllib.request.urlopen(endpoint + "/_emulator/codes?poolId=" + pool_id + "&username=jane") as r:
        code = json.load(r)["messages"][-1]["code"]
    idp.confirm_forgot_password(ClientId=client_id, Username="jane", ConfirmationCode=code, Password="Brand-New-Horse-2")
    auth = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "jane", "PASSWORD": "Brand-New-Horse-2"})
    out["signInAfterReset"] = "AuthenticationResult" in auth
    out["janeStatusAfterReset"] = idp.admin_get_user(UserPoolId=pool_id, Username="jane")["UserStatus"]

    # A header that is not the pool's fails the job.
    bad = os.path.join(workdir, "bad.csv")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("cognito:username,email,email_verified,cognito:mfa_enabled\nann,ann@example.com,true,false\n")
    job2 = idp.create_user_import_job(JobName="bad-header", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    out["uploadedBad"] = upload(job2, bad)
    idp.start_user_import_job(UserPoolId=pool_id, JobId=job2["JobId"])
    done2 = wait(job2["JobId"])
    out["badHeader"] = {k: done2.get(k) for k in ("Status", "ImportedUsers", "CompletionMessage")}
    try:
        idp.admin_get_user(UserPoolId=pool_id, Username="ann")
        out["annImported"] = True
    except ClientError:
        out["annImported"] = False

    # Stopped before it ran.
    job3 = idp.create_user_import_job(JobName="stopped", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    upload(job3, good)
    idp.start_user_import_job(UserPoolId=pool_id, JobId=job3["JobId"])
    stopped = idp.stop_user_import_job(UserPoolId=pool_id, JobId=job3["JobId"])["UserImportJob"]
    out["stopped"] = {k: stopped.get(k) for k in ("Status", "ImportedUsers", "CompletionMessage")}

    page = idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=2)
    out["listFirstPage"] = [j["JobName"] for j in page["UserImportJobs"]]
    rest = idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=10, PaginationToken=page["PaginationToken"])
    out["listSecondPage"] = [j["JobName"] for j in rest["UserImportJobs"]]
    out["poolId"] = pool_id
    out["jobId"] = job["JobId"]
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
