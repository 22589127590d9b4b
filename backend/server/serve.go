package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"switchboard/backend/secret"
	"switchboard/channels"
)

// EnvPrefix starts the environment variable of every serve flag:
// --public-url is also SWITCHBOARD_PUBLIC_URL. A flag on the command line
// wins over its variable.
const EnvPrefix = "SWITCHBOARD_"

// SecretKeyEnv holds the secret key itself, for platforms that pass secrets
// as environment variables; there is no flag for it (a command line shows
// in the process list).
const SecretKeyEnv = "SWITCHBOARD_SECRET_KEY"

// listFlag is a repeatable flag; its variable holds comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// ParseServe reads `switchboard serve`'s flags, each also from its
// SWITCHBOARD_… environment variable (getenv), and returns the engine's
// configuration. Errors name the flag and never repeat a secret.
func ParseServe(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	fset.SetOutput(stderr)
	var cfg Config
	var publicURL, keyFile string
	var proxies, baseURLs listFlag
	fset.StringVar(&cfg.Addr, "addr", ":8080", "listen address for the API, the WebSocket and webhooks")
	fset.StringVar(&cfg.DataDir, "data", "switchboard-data", "directory for engine.db and call recordings (created 0700)")
	fset.StringVar(&cfg.Store, "store", "", "PostgreSQL URL (postgres://user@host/db) to keep the state in, shared by several serve nodes; default: SQLite in --data")
	fset.BoolVar(&cfg.Demo, "demo", false, "seed an empty store with a demo workspace")
	fset.StringVar(&publicURL, "public-url", "", "the engine's external URL, e.g. https://support.example.com: Twilio signs it, and callback URLs (StatusCallback) are made from it")
	fset.Var(&proxies, "trusted-proxy", "IP or CIDR of a reverse proxy allowed to set X-Forwarded-* (repeatable; the variable takes a comma-separated list)")
	fset.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate chain: serve HTTPS (with --tls-key)")
	fset.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM private key of --tls-cert")
	fset.Var(&baseURLs, "channel-base-url", "CONNECTOR=URL: send a connector's API calls to URL, such as a sandbox (repeatable)")
	fset.StringVar(&keyFile, "secret-key-file", "", "file holding the secret key that encrypts channel secrets (or set "+SecretKeyEnv+")")
	fset.StringVar(&cfg.Synchronous, "synchronous", "FULL", "when a commit is durable: FULL (on disk before any webhook or request is answered), NORMAL (a power loss may lose the last commits) or OFF; see BENCHMARKS.md")
	fset.StringVar(&cfg.CPUProfile, "cpu-profile", "", "write a Go CPU profile of the engine to this file until it stops (for performance reports)")
	fset.DurationVar(&cfg.EventRetention, "event-retention", DefaultEventRetention, "how long the change log keeps events a desktop has not read (those every desktop has read go sooner); a desktop away longer resyncs from a snapshot; negative keeps every event")
	voice := VoiceFlags(fset)
	if err := fset.Parse(args); err != nil {
		return cfg, err
	}
	if fset.NArg() > 0 {
		return cfg, fmt.Errorf("serve takes no arguments, got %q", fset.Arg(0))
	}
	if err := fromEnv(fset, getenv); err != nil {
		return cfg, err
	}
	var err error
	if cfg.Voice, err = voice(); err != nil {
		return cfg, err
	}
	if cfg.Store != "" {
		if err := CheckStoreURL(cfg.Store); err != nil {
			return cfg, err
		}
	}
	if cfg.PublicURL, err = parsePublicURL(publicURL); err != nil {
		return cfg, err
	}
	for _, p := range proxies {
		prefix, err := ParseProxy(p)
		if err != nil {
			return cfg, fmt.Errorf("--trusted-proxy: %w", err)
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, prefix)
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return cfg, errors.New("--tls-cert and --tls-key go together")
	}
	if cfg.ChannelBaseURLs, err = parseBaseURLs(baseURLs); err != nil {
		return cfg, err
	}
	cfg.SecretKey, err = loadKey(keyFile, getenv(SecretKeyEnv))
	return cfg, err
}

// fromEnv sets every flag not given on the command line from its variable.
func fromEnv(fset *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fset.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fset.VisitAll(func(f *flag.Flag) {
		name := EnvPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(name)
		if given[f.Name] || v == "" || err != nil {
			return
		}
		if e := fset.Set(f.Name, v); e != nil {
			err = fmt.Errorf("%s: %w", name, e)
		}
	})
	return err
}

func parsePublicURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("--public-url %q must be an http(s) URL such as https://support.example.com, without query", s)
	}
	return strings.TrimRight(s, "/"), nil
}

func parseBaseURLs(list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range list {
		id, raw, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("--channel-base-url %q: use CONNECTOR=URL, e.g. sms.twilio=https://sandbox.example.com", item)
		}
		if _, ok := channels.Lookup(id); !ok {
			return nil, fmt.Errorf("--channel-base-url: there is no connector %q; known: %s", id, connectorIDs())
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("--channel-base-url %s: %q is not an http(s) URL", id, raw)
		}
		out[id] = strings.TrimRight(raw, "/")
	}
	return out, nil
}

func connectorIDs() string {
	var ids []string
	for _, info := range channels.Registered() {
		ids = append(ids, info.ID)
	}
	sort.Strings(ids)
	return strings.Join(ids, ", ")
}

// loadKey reads the secret key from the file, else from the variable's
// text; neither gives no key.
func loadKey(file, text string) (*secret.Key, error) {
	switch {
	case file != "" && text != "":
		return nil, fmt.Errorf("give the secret key once: --secret-key-file or %s, not both", SecretKeyEnv)
	case file != "":
		return secret.ReadFile(file)
	case text != "":
		k, err := secret.Parse(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", SecretKeyEnv, err)
		}
		return k, nil
	}
	return nil, nil
}
