/* Hidden AVP values, RFC 2661 section 4.3: the hidden sub-format (original
 * length, value, padding) XORed with an MD5 chain keyed by the AVP type, the
 * tunnel's shared secret and the message's Random Vector. */
#ifndef TANDEM_L2TP_HIDDEN_H
#define TANDEM_L2TP_HIDDEN_H

#include <stddef.h>
#include <stdint.h>

/* XOR in place with the MD5 keystream. Hiding and unhiding differ only in which
 * bytes feed the next block (the ciphertext), so `hiding` says which way. */
void l2tp_hidden_xor(uint16_t avp_type, const uint8_t *secret,
		     size_t secret_len, const uint8_t *rv, size_t rv_len,
		     uint8_t *buf, size_t len, int hiding);

/* Build the hidden value for `value`: writes 2 + len + pad_len bytes to out.
 * pad may be NULL (zero padding). Returns the byte count or -ENOSPC. */
int l2tp_hidden_hide(uint16_t avp_type, const uint8_t *secret,
		     size_t secret_len, const uint8_t *rv, size_t rv_len,
		     const uint8_t *value, size_t len, const uint8_t *pad,
		     size_t pad_len, uint8_t *out, size_t cap);

/* Recover a hidden value into out (cap >= hidden_len). On success *value_len
 * is the original length and the value starts at out + 2. Returns 0, or
 * -EBADMSG when the hidden value is shorter than 2 bytes or its original length
 * exceeds what follows (the sub-length check after unhiding). */
int l2tp_hidden_unhide(uint16_t avp_type, const uint8_t *secret,
		       size_t secret_len, const uint8_t *rv, size_t rv_len,
		       const uint8_t *hidden, size_t hidden_len, uint8_t *out,
		       size_t cap, size_t *value_len);

#endif
