// A throwaway PKI for TLS tests, made with the openssl command in a temporary directory that is
// removed with it. EC keys (P-256): each certificate costs a few milliseconds.
//
//   bsonrpc::test::pki certs("tls");
//   certs.make_ca("ca");
//   certs.make_leaf("client", "ca", "/CN=client", "extendedKeyUsage=clientAuth\n");
//   options.certificate_chain = certs.cert("client");
#pragma once

#include <bsonrpc/tls.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>

namespace bsonrpc::test {

class pki {
 public:
  // An empty directory for this process's certificates, named after `purpose`.
  explicit pki(const std::string& purpose)
      : dir_(std::filesystem::temp_directory_path() /
             ("bsonrpc-" + purpose + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~pki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  pki(const pki&) = delete;
  pki& operator=(const pki&) = delete;

  // A self-signed CA with the subject "/CN=<name>".
  void make_ca(const std::string& name) {
    openssl("req -x509 " + new_key(name) + " -days 2 -subj /CN=" + name +
            " -addext basicConstraints=critical,CA:TRUE"
            " -addext keyUsage=critical,keyCertSign,cRLSign -out " + path(name + ".pem"));
  }
  // A certificate `name` signed by the CA `issuer`, with `subject` ("/CN=x/O=y") and the
  // extensions in `extensions` (openssl extfile lines).
  void make_leaf(const std::string& name, const std::string& issuer, const std::string& subject,
                 const std::string& extensions) {
    std::ofstream(dir_ / (name + ".ext"))
        << "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n" << extensions;
    openssl("req " + new_key(name) + " -subj '" + subject + "' -out " + path(name + ".csr"));
    openssl("x509 -req -in " + path(name + ".csr") + " -CA " + path(issuer + ".pem") +
            " -CAkey " + path(issuer + ".key") + " -CAcreateserial -days 2 -extfile " +
            path(name + ".ext") + " -out " + path(name + ".pem"));
  }
  // A self-signed certificate with the subject "/CN=<cn>" and the extension `addext`.
  void make_self_signed(const std::string& name, const std::string& cn, const std::string& addext) {
    openssl("req -x509 " + new_key(name) + " -days 2 -subj /CN=" + cn + " -addext " + addext +
            " -out " + path(name + ".pem"));
  }

  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  tls::pem cert(const std::string& name) const { return tls::pem::file(file(name + ".pem")); }
  tls::pem key(const std::string& name) const { return tls::pem::file(file(name + ".key")); }
  std::string read(const std::string& file) const {
    std::ifstream in(dir_ / file);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  std::string path(const std::string& name) const { return "'" + file(name) + "'"; }
  std::string new_key(const std::string& name) const {
    return "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
           path(name + ".key");
  }
  static void openssl(const std::string& args) {
    const std::string command = "openssl " + args + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }

  std::filesystem::path dir_;
};

}  // namespace bsonrpc::test
