/* L2TPv2 protocol constants (RFC 2661): message types, AVP types, result and
 * error codes. Each list is one X-macro table that also yields the names used in
 * logs, so a number never appears bare anywhere else in the code base. */
#ifndef TANDEM_L2TP_CONST_H
#define TANDEM_L2TP_CONST_H

#include <stdint.h>

#define L2TP_UDP_PORT	    1701
#define L2TP_VERSION	    2
#define L2TP_VERSION_L2TPV3 3 /* RFC 3931 over UDP: told apart, never parsed */

/* Header flag bits, RFC 2661 section 3.1. */
#define L2TP_FLAG_T   0x8000u /* control message */
#define L2TP_FLAG_L   0x4000u /* Length field present */
#define L2TP_FLAG_S   0x0800u /* Ns and Nr present */
#define L2TP_FLAG_O   0x0200u /* Offset Size present */
#define L2TP_FLAG_P   0x0100u /* priority (data messages only) */
#define L2TP_VER_MASK 0x000fu

/* AVP header bits, RFC 2661 section 4.1. */
#define L2TP_AVP_M	  0x8000u
#define L2TP_AVP_H	  0x4000u
#define L2TP_AVP_RESERVED 0x3c00u
#define L2TP_AVP_LEN_MASK 0x03ffu
#define L2TP_AVP_HDR_LEN  6
#define L2TP_VENDOR_IETF  0

/* Control message types, RFC 2661 section 3.2. X(name, value, description). */
#define L2TP_MSG_TYPES(X)                                                      \
	X(SCCRQ, 1, "Start-Control-Connection-Request")                        \
	X(SCCRP, 2, "Start-Control-Connection-Reply")                          \
	X(SCCCN, 3, "Start-Control-Connection-Connected")                      \
	X(STOPCCN, 4, "Stop-Control-Connection-Notification")                  \
	X(HELLO, 6, "Hello")                                                   \
	X(OCRQ, 7, "Outgoing-Call-Request")                                    \
	X(OCRP, 8, "Outgoing-Call-Reply")                                      \
	X(OCCN, 9, "Outgoing-Call-Connected")                                  \
	X(ICRQ, 10, "Incoming-Call-Request")                                   \
	X(ICRP, 11, "Incoming-Call-Reply")                                     \
	X(ICCN, 12, "Incoming-Call-Connected")                                 \
	X(CDN, 14, "Call-Disconnect-Notify")                                   \
	X(WEN, 15, "WAN-Error-Notify")                                         \
	X(SLI, 16, "Set-Link-Info")

enum l2tp_msg_type {
	L2TP_MSG_ZLB = 0, /* pseudo type: control message without AVPs */
#define L2TP_X(name, val, desc) L2TP_MSG_##name = val,
	L2TP_MSG_TYPES(L2TP_X)
#undef L2TP_X
};
#define L2TP_MSG_TYPE_MAX 16

/* AVP types 0-39, RFC 2661 sections 4.4.1-4.4.6. X(name, value, description). */
#define L2TP_AVP_TYPES(X)                                                      \
	X(MESSAGE_TYPE, 0, "Message Type")                                     \
	X(RESULT_CODE, 1, "Result Code")                                       \
	X(PROTOCOL_VERSION, 2, "Protocol Version")                             \
	X(FRAMING_CAPABILITIES, 3, "Framing Capabilities")                     \
	X(BEARER_CAPABILITIES, 4, "Bearer Capabilities")                       \
	X(TIE_BREAKER, 5, "Tie Breaker")                                       \
	X(FIRMWARE_REVISION, 6, "Firmware Revision")                           \
	X(HOST_NAME, 7, "Host Name")                                           \
	X(VENDOR_NAME, 8, "Vendor Name")                                       \
	X(ASSIGNED_TUNNEL_ID, 9, "Assigned Tunnel ID")                         \
	X(RECEIVE_WINDOW_SIZE, 10, "Receive Window Size")                      \
	X(CHALLENGE, 11, "Challenge")                                          \
	X(Q931_CAUSE_CODE, 12, "Q.931 Cause Code")                             \
	X(CHALLENGE_RESPONSE, 13, "Challenge Response")                        \
	X(ASSIGNED_SESSION_ID, 14, "Assigned Session ID")                      \
	X(CALL_SERIAL_NUMBER, 15, "Call Serial Number")                        \
	X(MINIMUM_BPS, 16, "Minimum BPS")                                      \
	X(MAXIMUM_BPS, 17, "Maximum BPS")                                      \
	X(BEARER_TYPE, 18, "Bearer Type")                                      \
	X(FRAMING_TYPE, 19, "Framing Type")                                    \
	X(CALLED_NUMBER, 21, "Called Number")                                  \
	X(CALLING_NUMBER, 22, "Calling Number")                                \
	X(SUB_ADDRESS, 23, "Sub-Address")                                      \
	X(TX_CONNECT_SPEED, 24, "(Tx) Connect Speed")                          \
	X(PHYSICAL_CHANNEL_ID, 25, "Physical Channel ID")                      \
	X(INITIAL_RECEIVED_LCP_CONFREQ, 26, "Initial Received LCP CONFREQ")    \
	X(LAST_SENT_LCP_CONFREQ, 27, "Last Sent LCP CONFREQ")                  \
	X(LAST_RECEIVED_LCP_CONFREQ, 28, "Last Received LCP CONFREQ")          \
	X(PROXY_AUTHEN_TYPE, 29, "Proxy Authen Type")                          \
	X(PROXY_AUTHEN_NAME, 30, "Proxy Authen Name")                          \
	X(PROXY_AUTHEN_CHALLENGE, 31, "Proxy Authen Challenge")                \
	X(PROXY_AUTHEN_ID, 32, "Proxy Authen ID")                              \
	X(PROXY_AUTHEN_RESPONSE, 33, "Proxy Authen Response")                  \
	X(CALL_ERRORS, 34, "Call Errors")                                      \
	X(ACCM, 35, "ACCM")                                                    \
	X(RANDOM_VECTOR, 36, "Random Vector")                                  \
	X(PRIVATE_GROUP_ID, 37, "Private Group ID")                            \
	X(RX_CONNECT_SPEED, 38, "Rx Connect Speed")                            \
	X(SEQUENCING_REQUIRED, 39, "Sequencing Required")

enum l2tp_avp_type {
#define L2TP_X(name, val, desc) L2TP_AVP_##name = val,
	L2TP_AVP_TYPES(L2TP_X)
#undef L2TP_X
};
#define L2TP_AVP_TYPE_MAX 39 /* highest IETF AVP type RFC 2661 defines */

/* StopCCN result codes, RFC 2661 section 4.4.2. */
#define L2TP_STOPCCN_RESULTS(X)                                                \
	X(CLEAR, 1, "General request to clear control connection")             \
	X(GENERAL_ERROR, 2, "General error, Error Code indicates the problem") \
	X(ALREADY_EXISTS, 3, "Control channel already exists")                 \
	X(NOT_AUTHORIZED, 4,                                                   \
	  "Requester is not authorized to establish a control channel")        \
	X(BAD_VERSION, 5,                                                      \
	  "The protocol version of the requester is not supported")            \
	X(SHUTTING_DOWN, 6, "Requester is being shut down")                    \
	X(FSM_ERROR, 7, "Finite State Machine error")

enum l2tp_stopccn_result {
#define L2TP_X(name, val, desc) L2TP_STOPCCN_##name = val,
	L2TP_STOPCCN_RESULTS(L2TP_X)
#undef L2TP_X
};

/* CDN result codes, RFC 2661 section 4.4.2. */
#define L2TP_CDN_RESULTS(X)                                                    \
	X(LOST_CARRIER, 1, "Call disconnected due to loss of carrier")         \
	X(GENERAL_ERROR, 2,                                                    \
	  "Call disconnected for the reason indicated in error code")          \
	X(ADMIN, 3, "Call disconnected for administrative reasons")            \
	X(NO_FACILITIES_TEMP, 4,                                               \
	  "Call failed due to lack of appropriate facilities being available " \
	  "(temporary condition)")                                             \
	X(NO_FACILITIES_PERM, 5,                                               \
	  "Call failed due to lack of appropriate facilities being available " \
	  "(permanent condition)")                                             \
	X(INVALID_DEST, 6, "Invalid destination")                              \
	X(NO_CARRIER, 7, "Call failed due to no carrier detected")             \
	X(BUSY, 8, "Call failed due to detection of a busy signal")            \
	X(NO_DIALTONE, 9, "Call failed due to lack of a dial tone")            \
	X(TIMEOUT, 10, "Call was not established within time allotted by LAC") \
	X(NO_FRAMING, 11,                                                      \
	  "Call was connected but no appropriate framing was detected")

enum l2tp_cdn_result {
#define L2TP_X(name, val, desc) L2TP_CDN_##name = val,
	L2TP_CDN_RESULTS(L2TP_X)
#undef L2TP_X
};

/* General error codes, RFC 2661 section 4.4.2. */
#define L2TP_ERROR_CODES(X)                                                    \
	X(NONE, 0, "No general error")                                         \
	X(NO_TUNNEL, 1,                                                        \
	  "No control connection exists yet for this LAC-LNS pair")            \
	X(BAD_LENGTH, 2, "Length is wrong")                                    \
	X(BAD_VALUE, 3,                                                        \
	  "One of the field values was out of range or reserved field was "    \
	  "non-zero")                                                          \
	X(NO_RESOURCES, 4,                                                     \
	  "Insufficient resources to handle this operation now")               \
	X(BAD_SESSION_ID, 5, "The Session ID is invalid in this context")      \
	X(VENDOR, 6, "A generic vendor-specific error occurred in the LAC")    \
	X(TRY_ANOTHER, 7, "Try another")                                       \
	X(UNKNOWN_M_AVP, 8,                                                    \
	  "Session or tunnel was shutdown due to receipt of an unknown AVP "   \
	  "with the M-bit set")

enum l2tp_error_code {
#define L2TP_X(name, val, desc) L2TP_ERR_##name = val,
	L2TP_ERROR_CODES(L2TP_X)
#undef L2TP_X
};

/* Names for logs; never NULL ("unknown" for values outside the tables). */
const char *l2tp_msg_type_name(unsigned type);	     /* "SCCRQ" */
const char *l2tp_msg_type_desc(unsigned type);	     /* RFC wording */
const char *l2tp_avp_type_name(unsigned type);	     /* "HOST_NAME" */
const char *l2tp_avp_type_desc(unsigned type);	     /* "Host Name" */
const char *l2tp_stopccn_result_name(unsigned code); /* "CLEAR" */
const char *l2tp_stopccn_result_desc(unsigned code);
const char *l2tp_cdn_result_name(unsigned code);
const char *l2tp_cdn_result_desc(unsigned code);
const char *l2tp_error_code_name(unsigned code);
const char *l2tp_error_code_desc(unsigned code);

#endif
