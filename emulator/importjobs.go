package emulator

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// User import jobs, as the developer guide's "Importing users into user pools
// from a CSV file" runs them: GetCSVHeader; CreateUserImportJob answers a
// PreSignedUrl the emulator itself serves (an HTTP PUT of the CSV file, as the
// guide's curl -T does), good for 15 minutes; StartUserImportJob moves the job
// to Pending; the job runs the next time it is looked at (Describe, List) and
// ends Succeeded or Failed with Cognito's counts; StopUserImportJob stops a
// Pending job. Each row is checked by the guide's rules and imported as a
// RESET_REQUIRED user with its attributes, skipped when the user exists, or
// failed; a header that is not the pool's fails the job. The per-row results
// are the CloudWatch log lines Cognito writes ("[SUCCEEDED] Line Number 2 - The
// import succeeded."), kept with the job for the console.

const (
	// maxImportBytes and maxImportRows bound a CSV file (Cognito's limits are
	// 100 MB and 500,000 users; the emulator keeps uploads in memory).
	maxImportBytes = 16 << 20
	maxImportRows  = 100_000
	// maxImportRowChars is Cognito's limit on one row.
	maxImportRowChars = 16_000
	// maxUploadedBytes bounds every upload waiting for its job to start.
	maxUploadedBytes = 64 << 20
	// maxImportLog bounds the result lines kept per job.
	maxImportLog = 500
	// importURLLifetime is the PreSignedUrl's ("valid for 15 minutes").
	importURLLifetime = 15 * time.Minute
	// importJobExpiry: a job not started within 24 hours is Expired (the
	// guide says 24–48).
	importJobExpiry = 24 * time.Hour
)

// importJob is one job as kept in the pool's stored records.
type importJob struct {
	JobName           string  `json:"JobName"`
	JobID             string  `json:"JobId"`
	UserPoolID        string  `json:"UserPoolId"`
	PreSignedURL      string  `json:"PreSignedUrl"`
	CreationDate      float64 `json:"CreationDate"`
	StartDate         float64 `json:"StartDate,omitempty"`
	CompletionDate    float64 `json:"CompletionDate,omitempty"`
	Status            string  `json:"Status"`
	CloudWatchLogsARN string  `json:"CloudWatchLogsRoleArn"`
	ImportedUsers     int64   `json:"ImportedUsers"`
	SkippedUsers      int64   `json:"SkippedUsers"`
	FailedUsers       int64   `json:"FailedUsers"`
	CompletionMessage string  `json:"CompletionMessage,omitempty"`

	// Kept for the emulator only (never answered): the upload token and its
	// expiry, whether a file arrived, and the result lines.
	Token    string    `json:"_token,omitempty"`
	Uploaded bool      `json:"_uploaded,omitempty"`
	Expires  time.Time `json:"_expires,omitempty"`
	Log      []string  `json:"_log,omitempty"`
}

// api is the job as the API answers it (UserImportJobType).
func (j importJob) api() map[string]any {
	out := map[string]any{"JobName": j.JobName, "JobId": j.JobID, "UserPoolId": j.UserPoolID,
		"PreSignedUrl": j.PreSignedURL, "CreationDate": j.CreationDate, "Status": j.Status,
		"CloudWatchLogsRoleArn": j.CloudWatchLogsARN, "ImportedUsers": j.ImportedUsers,
		"SkippedUsers": j.SkippedUsers, "FailedUsers": j.FailedUsers}
	if j.StartDate != 0 {
		out["StartDate"] = j.StartDate
	}
	if j.CompletionDate != 0 {
		out["CompletionDate"] = j.CompletionDate
	}
	if j.CompletionMessage != "" {
		out["CompletionMessage"] = j.CompletionMessage
	}
	return out
}

type importJobInput struct {
	UserPoolID            string `json:"UserPoolId"`
	JobName               string `json:"JobName"`
	JobID                 string `json:"JobId"`
	CloudWatchLogsRoleArn string `json:"CloudWatchLogsRoleArn"`
	MaxResults            int    `json:"MaxResults"`
	PaginationToken       string `json:"PaginationToken"`
}

// csvHeader is GetCSVHeader's answer for p.
func csvHeader(p *userPool) []string {
	header := []string{"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
		"picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale", "phone_number",
		"phone_number_verified", "address", "updated_at"}
	custom := customAttributeNames(p.Schema) // schema.go
	sort.Strings(custom)
	return append(append(header, custom...), "cognito:mfa_enabled", "cognito:username")
}

func (e *Emulator) opGetCSVHeader(c *call, in *poolIDInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPoolId": p.ID, "CSVHeader": csvHeader(p)}, nil
}

var importJobName = regexp.MustCompile(`^[\w\s+=,.@-]{1,128}$`)

// baseURLKey carries the request's own URL (scheme and Host) to handlers.
type baseURLKey struct{}

// requestBase is the URL a client reached the emulator at: its Host, bounded.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" || len(host) > 255 || strings.ContainsAny(host, "/?#@ \\") {
		host = "localhost"
	}
	return scheme + "://" + host
}

func (e *Emulator) opCreateUserImportJob(c *call, in *importJobInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if !importJobName.MatchString(in.JobName) {
		return nil, errInvalidParameter("1 validation error detected: Value at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+ and have length between 1 and 128")
	}
	if err := checkARN("cloudWatchLogsRoleArn", in.CloudWatchLogsRoleArn); err != nil || in.CloudWatchLogsRoleArn == "" {
		return nil, errInvalidParameter("CloudWatchLogsRoleArn must be an IAM role ARN.")
	}
	base, _ := c.ctx.Value(baseURLKey{}).(string)
	if base == "" {
		base = "http://localhost"
	}
	id := "import-" + e.randomAlnum(10, false)
	token := e.randomB64(32)
	q := url.Values{"X-Amz-Expires": {"900"}, "X-Amz-Date": {c.now.UTC().Format("20060102T150405Z")}, "X-Amz-Signature": {token}}
	job := importJob{JobName: in.JobName, JobID: id, UserPoolID: p.ID, Status: "Created",
		CreationDate: epoch(c.now), CloudWatchLogsARN: in.CloudWatchLogsRoleArn,
		PreSignedURL: base + "/user-import/" + p.ID + "/" + id + "/users.csv?" + q.Encode(),
		Token:        token, Expires: c.now.Add(importURLLifetime)}
	if err := e.putStored(p, "importJob", id, job); err != nil {
		return nil, err
	}
	return map[string]any{"UserImportJob": job.api()}, nil
}

func (p *userPool) importJob(id string) (importJob, bool) {
	raw, ok := p.stored("importJob")[id]
	if !ok {
		return importJob{}, false
	}
	var j importJob
	return j, json.Unmarshal(raw, &j) == nil
}

func (e *Emulator) saveImportJob(p *userPool, j importJob) error {
	return e.putStored(p, "importJob", j.JobID, j)
}

// lookImportJob finds a job and brings it up to date: a Pending job runs, a
// Created one past its expiry is Expired.
func (e *Emulator) lookImportJob(c *call, p *userPool, id string) (importJob, error) {
	j, ok := p.importJob(id)
	if !ok {
		return importJob{}, errResourceNotFound("Import job %s does not exist.", clip(id))
	}
	switch {
	case j.Status == "Pending":
		e.runImport(p, &j, c.now)
		delete(e.uploads, p.ID+"/"+j.JobID)
	case j.Status == "Created" && c.now.Sub(time.UnixMilli(int64(j.CreationDate*1000))) > importJobExpiry:
		j.Status = "Expired"
		delete(e.uploads, p.ID+"/"+j.JobID)
	default:
		return j, nil
	}
	return j, e.saveImportJob(p, j)
}

func (e *Emulator) opDescribeUserImportJob(c *call, in *importJobInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	j, err := e.lookImportJob(c, p, in.JobID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserImportJob": j.api()}, nil
}

func (e *Emulator) opStartUserImportJob(c *call, in *importJobInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	j, err := e.lookImportJob(c, p, in.JobID)
	if err != nil {
		return nil, err
	}
	if j.Status != "Created" {
		return nil, newErr("PreconditionNotMetException", "Import job %s is %s; only a Created job can be started.", j.JobID, j.Status)
	}
	if !contains(p.AutoVerifiedAttributes, "email") && !contains(p.AutoVerifiedAttributes, "phone_number") {
		// "If the user pool has no auto-verified attributes, the import job will not start."
		return nil, errInvalidParameter("User pool %s has no auto-verified attributes; an import job cannot start.", p.ID)
	}
	j.Status, j.StartDate = "Pending", epoch(c.now)
	if err := e.saveImportJob(p, j); err != nil {
		return nil, err
	}
	return map[string]any{"UserImportJob": j.api()}, nil
}

// opStopUserImportJob stops a job that has started and not finished.
func (e *Emulator) opStopUserImportJob(c *call, in *importJobInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	j, ok := p.importJob(in.JobID)
	if !ok {
		return nil, errResourceNotFound("Import job %s does not exist.", clip(in.JobID))
	}
	if j.Status != "Pending" && j.Status != "InProgress" {
		return nil, newErr("PreconditionNotMetException", "Import job %s is %s; only a Pending or InProgress job can be stopped.", j.JobID, j.Status)
	}
	j.Status, j.CompletionDate, j.CompletionMessage = "Stopped", epoch(c.now), "The Import Job was stopped by the developer."
	delete(e.uploads, p.ID+"/"+j.JobID)
	if err := e.saveImportJob(p, j); err != nil {
		return nil, err
	}
	return map[string]any{"UserImportJob": j.api()}, nil
}

// opListUserImportJobs lists jobs from last created to first, as the guide says.
func (e *Emulator) opListUserImportJobs(c *call, in *importJobInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if in.MaxResults < 1 || in.MaxResults > 60 {
		return nil, errInvalidParameter("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60", in.MaxResults)
	}
	var jobs []importJob
	for id := range p.stored("importJob") {
		j, err := e.lookImportJob(c, p, id)
		if err == nil {
			jobs = append(jobs, j)
		}
	}
	sort.Slice(jobs, func(a, b int) bool {
		if jobs[a].CreationDate != jobs[b].CreationDate {
			return jobs[a].CreationDate > jobs[b].CreationDate
		}
		return jobs[a].JobID > jobs[b].JobID
	})
	start := 0
	if in.PaginationToken != "" {
		start = -1
		for i, j := range jobs {
			if j.JobID == in.PaginationToken {
				start = i + 1
			}
		}
		if start < 0 {
			return nil, errInvalidParameter("Invalid pagination token.")
		}
	}
	end := min(start+in.MaxResults, len(jobs))
	list := make([]map[string]any, 0, end-start)
	for _, j := range jobs[start:end] {
		list = append(list, j.api())
	}
	out := map[string]any{"UserImportJobs": list}
	if end < len(jobs) {
		out["PaginationToken"] = jobs[end-1].JobID
	}
	return out, nil
}

// ---- the PreSignedUrl ----

// importRoutes serves the PreSignedUrl: PUT /user-import/{pool}/{job}/users.csv, S3-like.
func (e *Emulator) importRoutes(mux *http.ServeMux) {
	mux.HandleFunc("PUT /user-import/{pool}/{job}/users.csv", e.serveImportUpload)
}

// s3Error answers as S3 does, in XML.
func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>\n", code, msg)
}

func (e *Emulator) serveImportUpload(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImportBytes))
	if err != nil {
		s3Error(w, http.StatusBadRequest, "EntityTooLarge", fmt.Sprintf("Your proposed upload exceeds the maximum allowed size of %d bytes.", maxImportBytes))
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.base.Now().Add(e.offset)
	p := e.st.Pools[r.PathValue("pool")]
	var j importJob
	ok := p != nil
	if ok {
		j, ok = p.importJob(r.PathValue("job"))
	}
	given := r.URL.Query().Get("X-Amz-Signature")
	if !ok || j.Token == "" || subtle.ConstantTimeCompare([]byte(given), []byte(j.Token)) != 1 {
		s3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	if now.After(j.Expires) {
		s3Error(w, http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}
	if j.Status != "Created" {
		s3Error(w, http.StatusForbidden, "AccessDenied", "The import job has started; the file can no longer be replaced.")
		return
	}
	key := p.ID + "/" + j.JobID
	total := len(body)
	for k, b := range e.uploads {
		if k != key {
			total += len(b)
		}
	}
	if total > maxUploadedBytes {
		s3Error(w, http.StatusServiceUnavailable, "SlowDown", "Too many uploads are waiting for their import jobs to start.")
		return
	}
	if e.uploads == nil {
		e.uploads = map[string][]byte{}
	}
	e.uploads[key] = body
	j.Uploaded = true
	if err := e.saveImportJob(p, j); err != nil {
		s3Error(w, http.StatusInternalServerError, "InternalError", "The upload could not be recorded.")
		return
	}
	e.saveIfDirty()
	w.Header().Set("ETag", fmt.Sprintf("%q", e.randomAlnum(32, false)))
	w.WriteHeader(http.StatusOK)
}

// ---- running a job ----

// splitImportRow splits one CSV row as the guide formats it: fields separated
// by commas, a comma inside a value written \, and values trimmed.
func splitImportRow(line string) []string {
	var fields []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == ',':
			cur.WriteByte(',')
			i++
		case line[i] == ',':
			fields = append(fields, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(fields, strings.TrimSpace(cur.String()))
}

var birthdateImport = regexp.MustCompile(`^(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])/[0-9]{4}$`)

// runImport imports the job's file into p and ends the job.
func (e *Emulator) runImport(p *userPool, j *importJob, now time.Time) {
	j.Status = "InProgress"
	end := func(status, msg string) {
		j.Status, j.CompletionDate, j.CompletionMessage = status, epoch(now), msg
	}
	lines, msg := e.importLines(p, j)
	if msg != "" {
		end("Failed", msg)
		return
	}
	header := splitImportRow(lines[0])
	if msg := checkImportHeader(p, header); msg != "" {
		end("Failed", msg)
		return
	}
	for i, line := range lines[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		result, why := e.importRow(p, header, line, now)
		j.count(result, i+2, why) // the line number, the header being line 1
	}
	if j.ImportedUsers == 0 && j.SkippedUsers+j.FailedUsers > 0 {
		end("Failed", "Too many users have failed or been skipped during the import.")
		return
	}
	end("Succeeded", "Import Job Completed Successfully.")
}

// importLines are the lines of the job's uploaded CSV file (the header first,
// trailing blank lines dropped), or why the job fails: no file, not UTF-8,
// empty, too many users.
func (e *Emulator) importLines(p *userPool, j *importJob) ([]string, string) {
	data, ok := e.uploads[p.ID+"/"+j.JobID]
	if !ok {
		if j.Uploaded {
			return nil, "The CSV file uploaded for this job was lost when the emulator restarted."
		}
		return nil, "No CSV file was uploaded to the job's PreSignedUrl."
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, "The CSV file could not be parsed: it is not UTF-8."
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, "The CSV file could not be parsed: it is empty."
	}
	if len(lines)-1 > maxImportRows {
		return nil, fmt.Sprintf("The CSV file has more than %d users.", maxImportRows)
	}
	return lines, ""
}

// count records one row's result (SUCCEEDED, SKIPPED or a failure) in the
// job's counts and its bounded log.
func (j *importJob) count(result string, line int, why string) {
	switch result {
	case "SUCCEEDED":
		j.ImportedUsers++
	case "SKIPPED":
		j.SkippedUsers++
	default:
		j.FailedUsers++
	}
	if len(j.Log) < maxImportLog {
		j.Log = append(j.Log, fmt.Sprintf("[%s] Line Number %d - %s", result, line, why))
	}
}

// checkImportHeader refuses a header that is not the pool's: every column of
// GetCSVHeader once, in any order, and no other.
func checkImportHeader(p *userPool, header []string) string {
	want := map[string]bool{}
	for _, h := range csvHeader(p) {
		want[h] = true
	}
	seen := map[string]bool{}
	for _, h := range header {
		switch {
		case !want[h]:
			return "The CSV header has a column the user pool does not have: " + clip(h)
		case seen[h]:
			return "The CSV header has a column twice: " + clip(h)
		}
		seen[h] = true
	}
	for _, h := range csvHeader(p) {
		if !seen[h] {
			return "The CSV header lacks the column " + h
		}
	}
	return ""
}

// importRow imports one row: SUCCEEDED, SKIPPED or FAILED, and why (no user
// data, as Cognito's log has none).
func (e *Emulator) importRow(p *userPool, header []string, line string, now time.Time) (string, string) {
	row, why := parseImportRow(header, line)
	if why != "" {
		return "FAILED", why
	}
	name := row["cognito:username"]
	if name == "" || strings.ContainsAny(name, " \t") {
		return "FAILED", "The cognito:username field is empty or contains spaces or tabs."
	}
	if p.findUser(name) != nil {
		return "SKIPPED", "The user already exists."
	}
	mfa := row["cognito:mfa_enabled"]
	for _, check := range importRowChecks {
		if why := check(p, row); why != "" {
			return "FAILED", why
		}
	}
	var attrs []attribute
	for _, h := range header {
		if v := row[h]; v != "" && !strings.HasPrefix(h, "cognito:") {
			attrs = append(attrs, attribute{h, v})
		}
	}
	u, err := e.newUser(p, name, attrs, now)
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Name == "UsernameExistsException" {
			return "SKIPPED", "The user already exists."
		}
		return "FAILED", "The user data doesn't match the schema."
	}
	u.Status = "RESET_REQUIRED"
	if mfa == "true" && u.Attributes["phone_number"] != "" {
		u.MFA.SMSEnabled = true
	}
	return "SUCCEEDED", "The import succeeded."
}

// parseImportRow splits a CSV row into its fields by the header's names, or
// says why it cannot.
func parseImportRow(header []string, line string) (map[string]string, string) {
	if utf8.RuneCountInString(line) > maxImportRowChars {
		return nil, fmt.Sprintf("The row is longer than %d characters.", maxImportRowChars)
	}
	fields := splitImportRow(line)
	if len(fields) != len(header) {
		return nil, fmt.Sprintf("The row has %d fields; the header has %d.", len(fields), len(header))
	}
	row := map[string]string{}
	for i, h := range header {
		row[h] = fields[i]
	}
	return row, ""
}

// importRowChecks are a row's checks against the pool, in Cognito's order:
// each says why the row fails, or "".
var importRowChecks = []func(p *userPool, row map[string]string) string{
	checkImportMFA,
	checkImportVerifiedFlags,
	checkImportAutoVerified,
	checkImportFormats,
	checkImportRequired,
}

func checkImportMFA(p *userPool, row map[string]string) string {
	mfa := row["cognito:mfa_enabled"]
	switch {
	case mfa != "true" && mfa != "false":
		return "The cognito:mfa_enabled field must be true or false."
	case p.MFA == "ON" && mfa != "true":
		return "The user pool requires MFA: cognito:mfa_enabled must be true."
	case p.MFA == "OFF" && mfa != "false":
		return "The user pool has MFA off: cognito:mfa_enabled must be false."
	}
	return ""
}

func checkImportVerifiedFlags(_ *userPool, row map[string]string) string {
	for _, v := range []string{"email_verified", "phone_number_verified"} {
		if row[v] != "" && row[v] != "true" && row[v] != "false" {
			return "The user data doesn't match the schema: " + v + " must be true or false."
		}
	}
	if row["email_verified"] == "true" && row["email"] == "" {
		return "email_verified is true but the email is empty."
	}
	if row["phone_number_verified"] == "true" && row["phone_number"] == "" {
		return "phone_number_verified is true but the phone_number is empty."
	}
	return ""
}

func checkImportAutoVerified(p *userPool, row map[string]string) string {
	verified := false
	for _, a := range p.AutoVerifiedAttributes {
		if row[a+"_verified"] == "true" {
			verified = true
		}
	}
	if !verified {
		return "The User Record does not set any of the auto verified attributes to true. (Example: email_verified to true)."
	}
	if len(p.AutoVerifiedAttributes) == 1 && row[p.AutoVerifiedAttributes[0]+"_verified"] != "true" {
		return "The User Record does not set the pool's auto verified attribute to true."
	}
	return ""
}

func checkImportFormats(_ *userPool, row map[string]string) string {
	if b := row["birthdate"]; b != "" && !birthdateImport.MatchString(b) {
		return "The user data doesn't match the schema: birthdate must be mm/dd/yyyy."
	}
	if u := row["updated_at"]; u != "" {
		if _, err := strconv.ParseUint(u, 10, 63); err != nil {
			return "The user data doesn't match the schema: updated_at must be epoch seconds."
		}
	}
	return ""
}

func checkImportRequired(p *userPool, row map[string]string) string {
	for _, raw := range p.Schema {
		var a schemaAttribute // account.go
		if json.Unmarshal(raw, &a) == nil && a.Required != nil && *a.Required && row[a.Name] == "" {
			return "The user data doesn't match the schema: the required attribute " + a.Name + " is empty."
		}
	}
	return ""
}

// ImportJobLog returns the result lines of an import job ("[SUCCEEDED] Line
// Number 2 - The import succeeded.", as Cognito's CloudWatch log), the first
// 500.
func (e *Emulator) ImportJobLog(poolID, jobID string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.st.Pools[poolID]
	if p == nil {
		return nil
	}
	j, _ := p.importJob(jobID)
	return append([]string(nil), j.Log...)
}

// withBase puts the request's own URL in ctx for handlers (the PreSignedUrl).
func withBase(ctx context.Context, r *http.Request) context.Context {
	return context.WithValue(ctx, baseURLKey{}, requestBase(r))
}
