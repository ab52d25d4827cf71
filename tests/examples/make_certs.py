#!/usr/bin/python3
"""Generates throwaway TLS material for the example tests into DIR with the openssl command:

  ca.pem / ca.key              a test CA
  server.pem / server.key      signed by the CA, for localhost, 127.0.0.1 and ::1
  client.pem / client.key      signed by the CA, for client authentication
  other-ca.pem / other-ca.key  an unrelated CA that signed nothing we serve

usage: make_certs.py DIR
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)


def make_ca(out, name, cn):
    openssl("req", "-x509", *EC, "-keyout", f"{out}/{name}.key", "-out", f"{out}/{name}.pem",
            "-days", "2", "-subj", f"/CN={cn}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def make_leaf(out, name, cn, extensions):
    ext_file = f"{out}/{name}.ext"
    with open(ext_file, "w") as f:
        f.write("basicConstraints=CA:FALSE\n" + extensions)
    openssl("req", *EC, "-keyout", f"{out}/{name}.key", "-out", f"{out}/{name}.csr",
            "-subj", f"/CN={cn}")
    openssl("x509", "-req", "-in", f"{out}/{name}.csr", "-CA", f"{out}/ca.pem",
            "-CAkey", f"{out}/ca.key", "-CAcreateserial", "-out", f"{out}/{name}.pem",
            "-days", "2", "-extfile", ext_file)


def main():
    out = sys.argv[1]
    if shutil.which("openssl") is None:
        print("SKIP: the openssl command is not installed")
        sys.exit(harness.SKIP)
    os.makedirs(out, exist_ok=True)
    make_ca(out, "ca", "bsonrpc example tests CA")
    make_ca(out, "other-ca", "an unrelated CA")
    make_leaf(out, "server", "localhost",
              "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
              "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    make_leaf(out, "client", "bsonrpc example client",
              "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    for name in ("ca", "other-ca", "server", "client"):
        harness.check(f"{name}.pem and {name}.key were written",
                      os.path.getsize(f"{out}/{name}.pem") > 0 and
                      os.path.getsize(f"{out}/{name}.key") > 0)


if __name__ == "__main__":
    harness.main(main)
