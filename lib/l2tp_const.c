/* Names and descriptions of RFC 2661 constants for logs, generated from the
 * X-macro tables in l2tp_const.h and l2tp_reject.h. */
#include "l2tp_const.h"
#include "l2tp_reject.h"

#define L2TP_NAME_CASE(name, val, desc)                                        \
	case val:                                                              \
		return #name;
#define L2TP_DESC_CASE(name, val, desc)                                        \
	case val:                                                              \
		return desc;

const char *l2tp_msg_type_name(unsigned type)
{
	if (type == L2TP_MSG_ZLB)
		return "ZLB";
	switch (type) {
		L2TP_MSG_TYPES(L2TP_NAME_CASE)
	}
	return "unknown";
}

const char *l2tp_msg_type_desc(unsigned type)
{
	if (type == L2TP_MSG_ZLB)
		return "Zero-Length Body acknowledgement";
	switch (type) {
		L2TP_MSG_TYPES(L2TP_DESC_CASE)
	}
	return "unknown message type";
}

const char *l2tp_avp_type_name(unsigned type)
{
	switch (type) {
		L2TP_AVP_TYPES(L2TP_NAME_CASE)
	}
	return "unknown";
}

const char *l2tp_avp_type_desc(unsigned type)
{
	switch (type) {
		L2TP_AVP_TYPES(L2TP_DESC_CASE)
	}
	return "unknown AVP";
}

const char *l2tp_stopccn_result_name(unsigned code)
{
	switch (code) {
		L2TP_STOPCCN_RESULTS(L2TP_NAME_CASE)
	}
	return "unknown";
}

const char *l2tp_stopccn_result_desc(unsigned code)
{
	switch (code) {
		L2TP_STOPCCN_RESULTS(L2TP_DESC_CASE)
	}
	return "unknown result code";
}

const char *l2tp_cdn_result_name(unsigned code)
{
	switch (code) {
		L2TP_CDN_RESULTS(L2TP_NAME_CASE)
	}
	return "unknown";
}

const char *l2tp_cdn_result_desc(unsigned code)
{
	switch (code) {
		L2TP_CDN_RESULTS(L2TP_DESC_CASE)
	}
	return "unknown result code";
}

const char *l2tp_error_code_name(unsigned code)
{
	switch (code) {
		L2TP_ERROR_CODES(L2TP_NAME_CASE)
	}
	return "unknown";
}

const char *l2tp_error_code_desc(unsigned code)
{
	switch (code) {
		L2TP_ERROR_CODES(L2TP_DESC_CASE)
	}
	return "unknown error code";
}

static const char *const l2tp_reject_names[] = {
#define L2TP_X(name, desc) #name,
	L2TP_REJECT_REASONS(L2TP_X)
#undef L2TP_X
};

static const char *const l2tp_reject_descs[] = {
#define L2TP_X(name, desc) desc,
	L2TP_REJECT_REASONS(L2TP_X)
#undef L2TP_X
};

const char *l2tp_reject_reason_name(enum l2tp_reject_reason r)
{
	return (unsigned)r < L2TP_REJ__COUNT ? l2tp_reject_names[r] : "unknown";
}

const char *l2tp_reject_reason_desc(enum l2tp_reject_reason r)
{
	return (unsigned)r < L2TP_REJ__COUNT ? l2tp_reject_descs[r]
					     : "unknown reason";
}

const char *l2tp_reject_scope_name(enum l2tp_reject_scope s)
{
	switch (s) {
	case L2TP_SCOPE_DROP:
		return "drop";
	case L2TP_SCOPE_IGNORE:
		return "ignore";
	case L2TP_SCOPE_CLEAR_SESSION:
		return "clear-session";
	case L2TP_SCOPE_CLEAR_TUNNEL:
		return "clear-tunnel";
	}
	return "unknown";
}
