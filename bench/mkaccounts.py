#!/usr/bin/env python3
"""bench/mkaccounts.py: create many Prosody accounts fast, for the benchmarks only.

Writes Prosody's internal storage files directly (authentication = "internal_hashed", the
stack's setting): DATA_PATH/<host, %-encoded>/accounts/<user>.dat, a Lua table with the
SCRAM-SHA-1 credentials that prosodyctl / in-band registration would store (salt,
iteration_count, stored_key, server_key; see Prosody's mod_auth_internal_hashed and
util.datamanager). Every account gets the same password and salt, so the PBKDF2 runs once,
not once per account. Prosody reads an account file when the user logs in, so no restart
is needed. prosodyctl takes a Lua start-up per account, in-band registration a login
round trip and a PBKDF2 per account in Prosody's single thread: both are measured by
scripts/bench (--accounts-compare) and are far slower.

  mkaccounts.py DATA_PATH DOMAIN PREFIX FIRST COUNT PASSWORD [ITERATIONS]
"""
import hashlib
import hmac
import os
import re
import sys


def encode(s):
    # util.datamanager's encode: every non-alphanumeric byte as %xx.
    return re.sub(r"[^A-Za-z0-9]", lambda m: "%%%02x" % ord(m.group(0)), s)


def main():
    if len(sys.argv) not in (7, 8):
        print(__doc__, file=sys.stderr)
        return 2
    data, domain, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    first, count, password = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    iterations = int(sys.argv[7]) if len(sys.argv) == 8 else 10000  # Prosody 0.12's default
    salt = "xpush-bench-salt-0000000000000000"
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt.encode(), iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
    stored_key = hashlib.sha1(client_key).hexdigest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha1).hexdigest()
    body = ('return {\n\t["iteration_count"] = %d;\n\t["salt"] = "%s";\n'
            '\t["server_key"] = "%s";\n\t["stored_key"] = "%s";\n};\n'
            % (iterations, salt, server_key, stored_key))
    d = os.path.join(data, encode(domain), "accounts")
    os.makedirs(d, mode=0o750, exist_ok=True)
    for i in range(first, first + count):
        with open(os.path.join(d, encode("%s%d" % (prefix, i)) + ".dat"), "w") as f:
            f.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
