package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Profile is one named section of config.toml.
type Profile struct {
	Values
	// AmplifyConfig is an Amplify configuration file the profile takes its
	// remaining settings from.
	AmplifyConfig string `toml:"amplify_config,omitempty"`
}

// File is config.toml:
//
//	[profiles.default]
//	user_pool_id = "us-east-1_AbC"
//	client_id = "…"
//
//	[profiles.work]
//	…
type File struct {
	// Default is the profile used when none is named (`cogauth profiles use NAME`);
	// empty: the only profile when there is one, else "default".
	Default  string             `toml:"default_profile,omitempty"`
	Profiles map[string]Profile `toml:"profiles"`
}

// DefaultName is the profile used when neither --profile nor COGAUTH_PROFILE names
// one: the file's default_profile, else its only profile, else "default".
func (f *File) DefaultName() string {
	if f.Default != "" {
		return f.Default
	}
	if len(f.Profiles) == 1 {
		for n := range f.Profiles {
			return n
		}
	}
	return DefaultProfile
}

// maxConfigSize keeps a stray huge file from being parsed.
const maxConfigSize = 1 << 20

// ParseFile decodes config.toml strictly: an unknown key is an error, so that a typo
// ("user_pool" for "user_pool_id") does not silently leave a setting out.
func ParseFile(b []byte) (*File, error) {
	if len(b) > maxConfigSize {
		return nil, errors.New("config: config.toml is larger than 1 MiB")
	}
	var f File
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&f)
	if err != nil {
		return nil, fmt.Errorf("config: config.toml: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("config: config.toml: unknown keys: %s", strings.Join(keys, ", "))
	}
	for name := range f.Profiles {
		if err := ValidateProfileName(name); err != nil {
			return nil, fmt.Errorf("config: config.toml: %w", err)
		}
	}
	if f.Default != "" {
		if err := ValidateProfileName(f.Default); err != nil {
			return nil, fmt.Errorf("config: config.toml: default_profile: %w", err)
		}
	}
	if f.Profiles == nil {
		f.Profiles = map[string]Profile{}
	}
	return &f, nil
}

// LoadFile reads config.toml; a missing file is an empty one.
func LoadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Profiles: map[string]Profile{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	f, err := ParseFile(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return f, nil
}

// Encode writes the file as TOML with profiles in name order.
func (f *File) Encode() ([]byte, error) {
	var buf bytes.Buffer
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	if f.Default != "" {
		fmt.Fprintf(&buf, "default_profile = %q\n\n", f.Default)
	}
	for i, n := range names {
		if i > 0 {
			buf.WriteByte('\n')
		}
		fmt.Fprintf(&buf, "[profiles.%s]\n", quoteKey(n))
		if err := toml.NewEncoder(&buf).Encode(f.Profiles[n]); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	return buf.Bytes(), nil
}

// quoteKey quotes a profile name that is not a bare TOML key ("a.b").
func quoteKey(n string) string {
	if strings.ContainsRune(n, '.') {
		return `"` + n + `"`
	}
	return n
}

// Save writes the file atomically (temporary file, fsync, rename), 0600 in a 0700
// directory: it may hold a client secret.
func (f *File) Save(path string) error {
	b, err := f.Encode()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.toml")
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("config: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}
