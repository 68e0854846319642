package daemon

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// dialAs connects to the unix socket at path from a thread of its own
// whose credentials are uid, gid and groups (set on that thread alone,
// with raw system calls), and returns the connection.
func dialAs(t *testing.T, path string, uid, gid uint32, groups []uint32) net.Conn {
	t.Helper()
	type dialed struct {
		c   net.Conn
		err error
	}
	ch := make(chan dialed, 1)
	go func() {
		// Never unlocked: the thread, whose credentials are no longer the
		// process's, ends with this goroutine.
		runtime.LockOSThread()
		var gp unsafe.Pointer
		if len(groups) > 0 {
			gp = unsafe.Pointer(&groups[0])
		}
		for _, call := range [][4]uintptr{
			{unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(gp)},
			{unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)},
			{unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)},
		} {
			if _, _, errno := unix.RawSyscall(call[0], call[1], call[2], call[3]); errno != 0 {
				ch <- dialed{err: errno}
				return
			}
		}
		c, err := net.Dial("unix", path)
		ch <- dialed{c, err}
	}()
	d := <-ch
	if d.err != nil {
		t.Fatalf("connect as %d:%d %v: %v", uid, gid, groups, d.err)
	}
	return d.c
}

// peerAs is what peerOf reads of a connection to a unix socket at path
// (listening there for it) made with credentials uid, gid and groups.
func peerAs(t *testing.T, path string, uid, gid uint32, groups []uint32) *peerCred {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// nobody (65534) must reach it.
	if err := os.Chmod(path, 0o777); err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client := dialAs(t, path, uid, gid, groups)
	defer client.Close()
	var server net.Conn
	select {
	case server = <-accepted:
	case <-time.After(hangGuard):
	}
	if server == nil {
		t.Fatal("no connection accepted")
	}
	defer server.Close()
	cred, err := peerOf(server)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// A client's group ids are those of the process that connected, not the
// user database's: 4242 and 4343 are in no group file, and the daemon
// reads inputs with exactly the groups the client has.
func TestPeerGroupsFromTheConnectingProcess(t *testing.T) {
	testutil.RequireRoot(t, "connects with other credentials")
	d := newTestDaemon(t, &notes{})
	dir, err := os.MkdirTemp("", "sdbuild-peer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil { // nobody must reach the socket
		t.Fatal(err)
	}
	cred := peerAs(t, filepath.Join(dir, "s"), 65534, 65534, []uint32{4242, 4343})
	p := d.resolvePeer(cred)
	if p.uid != 65534 || p.gid != 65534 || !slices.Equal(p.gids, []uint32{65534, 4242, 4343}) {
		t.Errorf("peer = uid %d gid %d gids %v; want 65534 65534 [65534 4242 4343]", p.uid, p.gid, p.gids)
	}
	if !slices.Equal(p.groupIDs(), []int{65534, 4242, 4343}) {
		t.Errorf("groupIDs = %v", p.groupIDs())
	}
	// The policy still asks the user database, and only when it names a group.
	if p.groups != nil {
		t.Errorf("group names %v looked up for a policy that names no group", p.groups)
	}
	d.cfg.AllowedUsers = []string{"@nogroup"}
	if p := d.resolvePeer(cred); !p.allowed || !slices.Contains(p.groups, "nogroup") {
		t.Errorf("allowed-users = @nogroup: peer %+v not allowed (groups %v)", p, p.groups)
	}
	d.cfg.AllowedUsers = []string{"@g4242"}
	if p := d.resolvePeer(cred); p.allowed {
		t.Errorf("allowed-users = @g4242: a group only the process has, not the user database, allowed %+v", p)
	}
}

// A peer with more groups than the first buffer holds gets all of them.
func TestPeerGroupsMany(t *testing.T) {
	testutil.RequireRoot(t, "connects with other credentials")
	var groups []uint32
	for g := uint32(5000); g < 5100; g++ {
		groups = append(groups, g)
	}
	cred := peerAs(t, filepath.Join(t.TempDir(), "s"), 0, 0, groups)
	if !slices.Equal(cred.groups, groups) {
		t.Errorf("SO_PEERGROUPS read %d groups %v…, want 5000…5099", len(cred.groups), cred.groups[:min(3, len(cred.groups))])
	}
}
