/* Tunnel authentication, RFC 2661 sections 4.2 and 5.1.1: the response is
 * computed as CHAP does (RFC 1994), with the Message Type of the carrying
 * message (SCCRP or SCCCN) in place of the CHAP identifier. */
#include "l2tp_auth.h"

#include "md5.h"

void l2tp_auth_response(uint8_t msg_type, const uint8_t *secret,
			size_t secret_len, const uint8_t *challenge,
			size_t challenge_len,
			uint8_t out[L2TP_AUTH_RESPONSE_LEN])
{
	struct md5_ctx c;
	md5_init(&c);
	md5_update(&c, &msg_type, 1);
	md5_update(&c, secret, secret_len);
	md5_update(&c, challenge, challenge_len);
	md5_final(&c, out);
}

bool l2tp_auth_verify(uint8_t msg_type, const uint8_t *secret,
		      size_t secret_len, const uint8_t *challenge,
		      size_t challenge_len, const uint8_t *response,
		      size_t response_len)
{
	uint8_t want[L2TP_AUTH_RESPONSE_LEN];
	if (response_len != L2TP_AUTH_RESPONSE_LEN)
		return false;
	l2tp_auth_response(msg_type, secret, secret_len, challenge,
			   challenge_len, want);
	/* Constant time: a peer must not learn the answer byte by byte. */
	uint8_t diff = 0;
	for (size_t i = 0; i < L2TP_AUTH_RESPONSE_LEN; i++)
		diff |= (uint8_t)(want[i] ^ response[i]);
	return diff == 0;
}
