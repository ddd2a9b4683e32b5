"""A loopback AWS Lambda Invoke API with Cognito trigger handlers, for the emulator.

Usage: lambda_server.py

It answers POST /2015-03-31/functions/{name}/invocations as Lambda does for a
RequestResponse invocation: the handler's result as JSON, or, when the handler
raises, X-Amz-Function-Error: Unhandled with {"errorMessage", "errorType"}; an
unknown function is a 404 ResourceNotFoundException. GET /delivered lists what the
custom sender handlers "sent" (they stand for a mail or SMS provider). It prints "port N" on its
first line and serves until stdin closes. The handlers are written against the
event shapes of the Cognito documentation, not against the emulator's code:
emulator/triggers_python_test.go checks that the two agree.
"""
import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The legacy user store UserMigration reads from.
LEGACY_USERS = {"legacy-lee": {"password": "Old-Password-1", "email": "lee@legacy.example"}}

STOP = threading.Event()


def presignup(event):
    email = event["request"]["userAttributes"].get("email", "")
    if not email.endswith("@example.com"):
        raise ValueError("Sign-ups from " + email.split("@")[-1] + " are closed")
    event["response"]["autoConfirmUser"] = True
    event["response"]["autoVerifyEmail"] = True
    return event


def pretoken(event):
    # Version 2: both tokens, and a scope for the access token.
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {"claimsToAddOrOverride": {"plan": "gold"}},
        "accessTokenGeneration": {
            "claimsToAddOrOverride": {"tenant": "acme", "roles": ["reader", "writer"]},
            "scopesToAdd": ["orders/read"],
        },
    }
    return event


def migrate(event):
    user = LEGACY_USERS.get(event["userName"])
    if user is None:
        raise KeyError("no legacy user")
    if event["triggerSource"] == "UserMigration_Authentication":
        if event["request"]["password"] != user["password"]:
            raise ValueError("Bad password")
        event["response"]["finalUserStatus"] = "CONFIRMED"
    else:
        event["response"]["finalUserStatus"] = "RESET_REQUIRED"
    event["response"]["userAttributes"] = {"email": user["email"], "email_verified": "true"}
    event["response"]["messageAction"] = "SUPPRESS"
    return event


def message(event):
    code = event["request"]["codeParameter"]
    if event["triggerSource"] in ("CustomMessage_SignUp", "CustomMessage_ForgotPassword", "CustomMessage_ResendCode"):
        event["response"]["emailSubject"] = "Welcome to Acme"
        event["response"]["emailMessage"] = "Hi " + event["userName"] + ", your Acme code is " + code
    return event


def define(event):
    session = event["request"]["session"]
    wrong = sum(1 for s in session if s["challengeName"] == "CUSTOM_CHALLENGE" and not s["challengeResult"])
    resp = event["response"]
    if session and session[-1]["challengeName"] == "CUSTOM_CHALLENGE" and session[-1]["challengeResult"]:
        resp.update(issueTokens=True, failAuthentication=False)
    elif wrong >= 3 or event["request"]["userNotFound"]:
        resp.update(issueTokens=False, failAuthentication=True)
    else:
        resp.update(challengeName="CUSTOM_CHALLENGE", issueTokens=False, failAuthentication=False)
    return event


def create(event):
    n = len(event["request"]["session"]) + 3
    event["response"]["publicChallengeParameters"] = {"question": "%d * 7" % n}
    event["response"]["privateChallengeParameters"] = {"answer": str(n * 7)}
    event["response"]["challengeMetadata"] = "MATH"
    return event


def verify(event):
    private = event["request"]["privateChallengeParameters"]
    event["response"]["answerCorrect"] = event["request"]["challengeAnswer"] == private["answer"]
    return event


def failing(event):
    raise RuntimeError("Failing on purpose")


def slow(event):
    STOP.wait(60)  # longer than the emulator waits: its timeout answers first
    return event


# What the custom sender handlers delivered, for GET /delivered.
DELIVERED = []
DELIVERED_LOCK = threading.Lock()


def sender(event, request_type, attribute):
    """A custom sender: the code arrives base64-encoded (on AWS also encrypted with
    the pool's KMS key, which the emulator does not do: see emulator/README.md)."""
    req = event["request"]
    if req["type"] != request_type:
        raise ValueError("unexpected request type " + req["type"])
    code = base64.b64decode(req["code"]).decode() if req.get("code") else None
    with DELIVERED_LOCK:
        DELIVERED.append({"triggerSource": event["triggerSource"], "userName": event["userName"],
                          "to": req["userAttributes"].get(attribute), "code": code,
                          "clientMetadata": req.get("clientMetadata") or {}})
    return event


def email_sender(event):
    return sender(event, "customEmailSenderRequestV1", "email")


def sms_sender(event):
    return sender(event, "customSMSSenderRequestV1", "phone_number")


GARBAGE = object()


def garbage(event):
    return GARBAGE


HANDLERS = {f.__name__: f for f in (presignup, pretoken, migrate, message, define, create, verify, failing, slow, garbage,
                                    email_sender, sms_sender)}


class Invoke(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/delivered":
            return self.reply(404, {"message": "unknown path"}, {})
        with DELIVERED_LOCK:
            return self.reply(200, {"delivered": list(DELIVERED)}, {})

    def do_POST(self):
        parts = self.path.split("?")[0].split("/")
        # /2015-03-31/functions/{name}/invocations
        if len(parts) != 5 or parts[1] != "2015-03-31" or parts[2] != "functions" or parts[4] != "invocations":
            return self.reply(404, {"message": "unknown path"}, {"x-amzn-ErrorType": "UnknownOperationException"})
        handler = HANDLERS.get(parts[3])
        if handler is None:
            return self.reply(404, {"Type": "User", "message": "Function not found: " + parts[3]},
                              {"x-amzn-ErrorType": "ResourceNotFoundException"})
        if self.headers.get("X-Amz-Invocation-Type", "RequestResponse") != "RequestResponse":
            return self.reply(400, {"message": "RequestResponse only"}, {"x-amzn-ErrorType": "InvalidParameterValueException"})
        event = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        try:
            result = handler(event)
        except Exception as err:  # a handler error, as Lambda reports it
            return self.reply(200, {"errorMessage": str(err), "errorType": type(err).__name__, "stackTrace": []},
                              {"X-Amz-Function-Error": "Unhandled"})
        if result is GARBAGE:
            return self.raw(200, b"this is not JSON")
        return self.reply(200, result, {})

    def reply(self, status, body, headers):
        self.raw(status, json.dumps(body).encode(), headers)

    def raw(self, status, data, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except BrokenPipeError:
            pass  # the emulator gave up waiting (the slow handler)

    def log_message(self, *args):
        pass


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Invoke)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("port %d" % srv.server_address[1], flush=True)
    sys.stdin.read()  # until the test closes our stdin
    STOP.set()
    srv.shutdown()


if __name__ == "__main__":
    main()
