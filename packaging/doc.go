// Package packaging holds no code: its tests check how sdbuild is installed
// and packaged (make install, make deb, packaging/version, the maintainer
// scripts), and, inside the throwaway systemd, that the Debian package
// installs, brings up sdbuild.socket and serves a build.
package packaging
