// Package outputs moves a finished build's outputs out of the build tree without trusting it.
//
// The build tree was written by untrusted build code running as an
// unprivileged host uid, so every name in it is hostile. Copy walks it with
// directory file descriptors only: it never follows a symlink the build made
// and never opens, chowns or chmods through a path inside the tree
// (CVE-2021-27851: the Guix daemon chowned a build tree by path, and a symlink
// swap made it chown /etc/shadow). The output is made of fresh inodes owned by
// the owner the caller names, so no inode the build ever held a descriptor to
// becomes the output (CVE-2024-27297), and setuid, setgid, sticky,
// group-write and world-write bits are dropped (Nix 1.11.10: a build left a
// setuid binary behind that a host user then ran).
//
// Call Copy only after every build process is dead. The checks here make a
// tree that is swapped underneath fail the copy rather than escape it.
//
// Trust boundary: the directories above src are the daemon's, and are
// resolved as ordinary paths; only the last element of src, and everything
// beneath it, may be writable by the build. The directories above dst are
// the owner's, who may change them at any moment (swap one for a symlink to
// /etc, say): dst's parent is resolved, and the output created and renamed
// into place there, with the owner's file-system credentials, so the
// kernel checks the owner's right to create it at the moment it is
// created; everything else works relative to the fds so obtained.
package outputs
