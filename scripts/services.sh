#!/usr/bin/env bash
# Start the PostgreSQL and Redis that the tests use, if they are not already answering.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "PostgreSQL is not running on 127.0.0.1:5432" >&2; exit 1; }

if ! redis_up; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
redis_up || { echo "Redis is not running on 127.0.0.1:6379" >&2; exit 1; }
# The email channel's IMAP tests start their own Dovecot (tests/channels/email); they are
# skipped where it is not installed.
if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ] && [ "$(id -u)" = "0" ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd) \
    >/tmp/kefu-dovecot-install.log 2>&1 \
    || echo "dovecot-imapd could not be installed: the IMAP tests will be skipped" >&2
fi
echo "PostgreSQL and Redis are up."
