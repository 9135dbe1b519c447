#!/usr/bin/env bash
# Installs the real peers the test suite and benchmarks run against (Debian packages).
# Needs root (apt). apt never starts their daemons here: tests start private instances on
# loopback and stop them by PID. Safe to run again.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
need=()
command -v /usr/sbin/smtp-sink >/dev/null 2>&1 || need+=(postfix)
command -v swaks >/dev/null 2>&1 || need+=(swaks)
dpkg -s libnet-ssleay-perl >/dev/null 2>&1 || need+=(libnet-ssleay-perl libio-socket-inet6-perl)
command -v /usr/sbin/dovecot >/dev/null 2>&1 || need+=(dovecot-pop3d)
command -v fetchmail >/dev/null 2>&1 || need+=(fetchmail)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v iconv >/dev/null 2>&1 || need+=(libc-bin)
# Real sendmail callers for the sendmail-compatibility tests: BSD mailx and git send-email.
command -v bsd-mailx >/dev/null 2>&1 || need+=(bsd-mailx)
[ -x /usr/lib/git-core/git-send-email ] || need+=(git-email)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)  # the PDF oracle (pdfmail)
dpkg -s libmailtools-perl >/dev/null 2>&1 || need+=(libmailtools-perl)  # git send-email's Mail::Address
command -v chromium >/dev/null 2>&1 || need+=(chromium)  # the console's browser tests (playwright-core drives it)
/usr/bin/python3 -c 'import dkim' >/dev/null 2>&1 || need+=(python3-dkim)  # the independent DKIM verifier
command -v groff >/dev/null 2>&1 || need+=(groff-base man-db)  # renders the generated man pages (src/cli/man.test.ts)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)  # the PostgreSQL store ([P2]); scripts/start-postgres.sh starts it
if [ ${#need[@]} -gt 0 ]; then
  echo "peers: installing ${need[*]}"
  $SUDO apt-get update -q
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
else
  echo "peers: all installed"
fi
