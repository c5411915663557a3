// The parts of the system's libcrypto (OpenSSL 3, Debian libssl-dev) that LatticeAuth uses:
// SHA-256 for stored token hashes and the CSPRNG for token secrets.
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
