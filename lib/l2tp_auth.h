/* Tunnel authentication, RFC 2661 sections 4.2 and 5.1.1: a CHAP-like MD5
 * response over the message type, the shared secret and the peer's challenge. */
#ifndef TANDEM_L2TP_AUTH_H
#define TANDEM_L2TP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define L2TP_AUTH_RESPONSE_LEN 16

/* out = MD5(msg_type octet || secret || challenge); msg_type is the type of the
 * message carrying the response (SCCRP = 2, SCCCN = 3). */
void l2tp_auth_response(uint8_t msg_type, const uint8_t *secret,
			size_t secret_len, const uint8_t *challenge,
			size_t challenge_len,
			uint8_t out[L2TP_AUTH_RESPONSE_LEN]);

/* True when `response` (response_len bytes) is the right answer to the
 * challenge we sent; compares in constant time. */
bool l2tp_auth_verify(uint8_t msg_type, const uint8_t *secret,
		      size_t secret_len, const uint8_t *challenge,
		      size_t challenge_len, const uint8_t *response,
		      size_t response_len);

#endif
