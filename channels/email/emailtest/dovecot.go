package emailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// DovecotBinary is Debian's Dovecot (package dovecot-imapd).
const DovecotBinary = "/usr/sbin/dovecot"

// Dovecot is a real Dovecot IMAP server (IMAP4rev1, IDLE, STARTTLS with a
// throwaway certificate) on a private loopback port, with users in a
// passwd-file and Maildirs in a temporary directory.
type Dovecot struct {
	// Addr is the IMAP listener (host:port).
	Addr string
	dir  string
	cmd  *exec.Cmd
	conf string
	// mailUID and mailGID own the Maildirs (Dovecot will not keep mail as
	// root).
	mailUID, mailGID int

	mu    sync.Mutex
	users map[string]string
	// stamps gives each version of the users file its own modification
	// second, so Dovecot rereads it at once.
	stamps int
}

// StartDovecot starts Dovecot and waits until it takes logins. Under root
// its login and mail processes run as Debian's dovenull and dovecot users.
func StartDovecot() (*Dovecot, error) {
	if _, err := os.Stat(DovecotBinary); err != nil {
		return nil, fmt.Errorf("dovecot is not installed (apt-get install dovecot-imapd): %w", err)
	}
	dir, err := os.MkdirTemp("", "switchboard-dovecot-")
	if err != nil {
		return nil, err
	}
	d := &Dovecot{dir: dir, conf: filepath.Join(dir, "dovecot.conf"), users: map[string]string{}}
	if err := d.prepare(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	d.cmd = exec.Command(DovecotBinary, "-F", "-c", d.conf)
	d.cmd.Stdout, d.cmd.Stderr = os.Stderr, os.Stderr
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start dovecot: %w", err)
	}
	if err := d.waitReady(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// prepare writes the configuration, the certificate and the users file.
func (d *Dovecot) prepare() error {
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(d.dir, sub), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(d.dir, 0o755); err != nil { // login processes traverse it
		return err
	}
	me, err := user.Current()
	if err != nil {
		return err
	}
	internal, login, mailUser := me.Username, me.Username, me.Username
	first := ""
	if os.Geteuid() == 0 {
		internal, login, mailUser = "dovecot", "dovenull", "dovecot"
	}
	mu, err := user.Lookup(mailUser)
	if err != nil {
		return fmt.Errorf("dovecot's user %s: %w", mailUser, err)
	}
	d.mailUID, _ = strconv.Atoi(mu.Uid)
	d.mailGID, _ = strconv.Atoi(mu.Gid)
	if d.mailUID < 500 {
		first = fmt.Sprintf("first_valid_uid = %d\nfirst_valid_gid = %d\n", d.mailUID, d.mailGID)
	}
	if err := os.Chown(filepath.Join(d.dir, "mail"), d.mailUID, d.mailGID); err != nil && os.Geteuid() == 0 {
		return err
	}
	g, err := user.LookupGroupId(mu.Gid)
	if err != nil {
		return err
	}
	certPEM, keyPEM := selfSignedPEM()
	for name, data := range map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(d.dir, name), data, 0o600); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(d.dir, "users"), nil, 0o644); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	d.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conf := fmt.Sprintf(`protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = switchboard-test-%[2]d
log_path = %[1]s/dovecot.log
default_internal_user = %[3]s
default_internal_group = %[3]s
default_login_user = %[4]s
%[7]sssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/users
}
userdb {
  driver = passwd-file
  args = username_format=%%u %[1]s/users
  default_fields = uid=%[5]s gid=%[6]s home=%[1]s/mail/%%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
`, d.dir, port, internal, login, mailUser, g.Name, first)
	return os.WriteFile(d.conf, []byte(conf), 0o644)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits until a login of a probe user works (Dovecot's auth
// process starts a moment after its listener).
func (d *Dovecot) waitReady() error {
	return d.AddUser("probe@switchboard.test", "probe-password")
}

// AddUser adds a mailbox user and waits until Dovecot takes its login.
// Dovecot rereads the passwd-file when its modification time changes,
// which it sees to the second: each version gets a second of its own.
func (d *Dovecot) AddUser(name, password string) error {
	d.mu.Lock()
	d.users[name] = password
	var b bytes.Buffer
	for u, p := range d.users {
		fmt.Fprintf(&b, "%s:{PLAIN}%s::::::\n", u, p)
	}
	d.stamps++
	stamp := time.Unix(1_700_000_000+int64(d.stamps), 0)
	d.mu.Unlock()
	tmp := filepath.Join(d.dir, "users.tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Chtimes(tmp, stamp, stamp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(d.dir, "users")); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		cl, err := d.login(name, password)
		if err == nil {
			cl.Logout().Wait()
			cl.Close()
			return nil
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("dovecot did not take the login of %s: %v\n%s", name, last, d.Log())
}

// login opens an IMAP session over STARTTLS.
func (d *Dovecot) login(name, password string) (*imapclient.Client, error) {
	cl, err := imapclient.DialStartTLS(d.Addr, &imapclient.Options{TLSConfig: insecureTLS()})
	if err != nil {
		return nil, err
	}
	if err := cl.Login(name, password).Wait(); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// Deliver puts a raw mail into a user's INBOX (IMAP APPEND), as it arrives.
func (d *Dovecot) Deliver(name string, raw []byte) error {
	d.mu.Lock()
	password := d.users[name]
	d.mu.Unlock()
	cl, err := d.login(name, password)
	if err != nil {
		return err
	}
	defer cl.Close()
	cmd := cl.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	if _, err := cmd.Wait(); err != nil {
		return err
	}
	return cl.Logout().Wait()
}

// Count returns how many mails a user's INBOX holds with the given flag
// ("" for all).
func (d *Dovecot) Count(name string, flag imap.Flag) (int, error) {
	d.mu.Lock()
	password := d.users[name]
	d.mu.Unlock()
	cl, err := d.login(name, password)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	if _, err := cl.Select("INBOX", nil).Wait(); err != nil {
		return 0, err
	}
	crit := &imap.SearchCriteria{}
	if flag != "" {
		crit.Flag = []imap.Flag{flag}
	}
	res, err := cl.UIDSearch(crit, nil).Wait()
	if err != nil {
		return 0, err
	}
	return len(res.AllUIDs()), nil
}

// Kick drops every IMAP connection of a user from the server side
// (doveadm kick), as a network cut or a server restart would, while the
// server keeps running.
func (d *Dovecot) Kick(name string) error {
	out, err := exec.Command("/usr/bin/doveadm", "-c", d.conf, "kick", name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("doveadm kick: %v: %s", err, out)
	}
	return nil
}

// Log returns Dovecot's log so far.
func (d *Dovecot) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
	return string(b)
}

// Close stops Dovecot (its whole process group) and removes its files.
func (d *Dovecot) Close() {
	if d.cmd != nil && d.cmd.Process != nil {
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { d.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	os.RemoveAll(d.dir)
}

// selfSignedPEM returns a throwaway certificate and key for 127.0.0.1 as
// PEM files.
func selfSignedPEM() (certPEM, keyPEM []byte) {
	c := selfSigned()
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})
	der, _ := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	return certPEM, keyPEM
}
