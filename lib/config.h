/* The one configuration file format of every tandem process: `key value` lines
 * checked against a single key table (type, default, range, SIGHUP behaviour,
 * help), plus SIGHUP reload of the keys that may change at run time. */
#ifndef TANDEM_CONFIG_H
#define TANDEM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_STR_MAX	256	      /* string values: up to 255 bytes + NUL */
#define CONFIG_ADDR_MAX 64	      /* host:port text: up to 63 bytes + NUL */
#define CONFIG_FILE_MAX (1024 * 1024) /* config_load refuses bigger files */

enum config_type {
	CONFIG_STRING,	 /* text; "..." keeps spaces and '#' */
	CONFIG_INT,	 /* decimal integer within [min, max] */
	CONFIG_BOOL,	 /* yes/no, true/false, on/off, 1/0 */
	CONFIG_DURATION, /* 500ms, 2s, 1m, 1h; a plain number is seconds */
	CONFIG_ADDR,	 /* IPv4:port, [IPv6]:port or localhost:port */
	CONFIG_ZMQ,	 /* ZeroMQ endpoint: tcp://, ipc:// or inproc:// */
	CONFIG_ENUM,	 /* one of a fixed list of words */
	CONFIG_ADDRS,	 /* addresses separated by commas; "" = none */
};

/* Key flags. */
#define CONFIG_RELOADABLE 0x1u	/* SIGHUP applies a new value at run time */
#define CONFIG_NONEMPTY	  0x2u	/* string: "" is refused */
#define CONFIG_POW2	  0x4u	/* integer: must be a power of two */
#define CONFIG_SECRET	  0x8u	/* string: value never printed */
#define CONFIG_OPTIONAL	  0x10u /* address: "" is allowed (feature off) */

/* A parsed host:port. All bytes past the strings are zero, so two equal
 * addresses compare equal with memcmp. */
struct config_addr {
	char text
		[CONFIG_ADDR_MAX]; /* as written in the file, e.g. "[::1]:6379" */
	char host
		[CONFIG_ADDR_MAX]; /* host without brackets: "::1", "localhost" */
	uint16_t port;		   /* 0-65535 */
};

#define CONFIG_ADDRS_MAX 8 /* addresses in one list */

/* A parsed list of host:port, e.g. the Redis Sentinels. */
struct config_addrs {
	char text[CONFIG_STR_MAX]; /* as written in the file */
	struct config_addr addr[CONFIG_ADDRS_MAX];
	unsigned n; /* 0: the list is empty (feature off) */
};

/* shard_policy values, in the order of the key's choices. */
enum config_shard_policy {
	CONFIG_SHARD_SPREAD = 0,	 /* shards spread over all workers */
	CONFIG_SHARD_ACTIVE_STANDBY = 1, /* one worker owns all, others wait */
};

/* ppp_backend values, in the order of the key's choices. */
enum config_ppp_backend {
	CONFIG_PPP_COUNT = 0, /* count frames; no PPP (tests, load) */
	CONFIG_PPP_PPPD = 1,  /* one pppd per session on a pty */
};

/* Every setting of every process. Plain data: copy it with `=`; nothing to
 * free. Each field is set from the key of the same name (durations carry an
 * _ms suffix); the help text of each key is in the table in config.c. */
struct config {
	struct config_addr redis;		/* Redis server */
	char redis_prefix[CONFIG_STR_MAX];	/* prefix of every Redis key */
	char redis_password[CONFIG_STR_MAX];	/* AUTH password, "" = none */
	struct config_addrs redis_sentinels;	/* Sentinels; none: use redis */
	char redis_master_name[CONFIG_STR_MAX]; /* Sentinels' name of it */
	int redis_wait_replicas;   /* WAIT n after each checkpoint */
	uint32_t redis_timeout_ms; /* Redis command timeout */
	struct config_addr listen; /* frontend's L2TP UDP socket */
	char frontend_endpoint
		[CONFIG_STR_MAX];	      /* frontend binds: from workers */
	char worker_endpoint[CONFIG_STR_MAX]; /* worker binds: from frontends */
	char control_endpoint[CONFIG_STR_MAX]; /* worker's control socket */
	struct config_addr metrics_listen;     /* HTTP /metrics, "" = off */
	char hostname[CONFIG_STR_MAX];	       /* our Host Name AVP */
	char secret[CONFIG_STR_MAX];	       /* tunnel secret, "" = no auth */
	bool hide_avps;			/* hide AVPs that may be hidden */
	uint32_t hello_interval_ms;	/* idle time before Hello, 0 = off */
	int receive_window;		/* our Receive Window Size AVP */
	uint32_t retransmit_initial_ms; /* first retransmission timeout */
	uint32_t retransmit_max_ms;	/* back-off cap */
	int retransmit_retries;		/* retransmissions before giving up */
	uint32_t ack_delay_ms;		/* wait for a piggyback before a ZLB */
	int shard_count;		/* shards of the tunnel-ID space */
	uint32_t lease_ttl_ms;		/* shard lease lifetime */
	uint32_t lease_renew_ms;	/* lease renewal period */
	int shard_policy;		/* enum config_shard_policy */
	int max_tunnels;		/* tunnels per worker */
	int max_sessions_per_tunnel;	/* sessions per tunnel */
	int ppp_backend;		/* enum config_ppp_backend */
	char pppd_path[CONFIG_STR_MAX]; /* pppd binary */
	char pppd_options[CONFIG_STR_MAX]; /* pppd options file, "" = none */
	char ppp_pool[CONFIG_STR_MAX];	   /* subscriber pool CIDR, "" = none */
	int log_level;			   /* enum log_level (log.h) */
};

/* One entry of the key table. Entries are static: never freed. */
struct config_key_info {
	const char *name;	    /* key as written in the file */
	enum config_type type;	    /* value syntax */
	const char *def;	    /* default, as it would be written */
	int64_t min;		    /* int: lowest; duration: lowest in ms */
	int64_t max;		    /* int: highest; duration: highest in ms */
	const char *const *choices; /* enum: NULL-terminated words, else NULL */
	unsigned flags;		    /* CONFIG_RELOADABLE, ... */
	const char *help;	    /* one line for docs and --help */
	size_t offset;		    /* where the value lives in struct config */
	size_t size;		    /* bytes of that field */
};

/* Set every field to its key's default. */
void config_defaults(struct config *c);

/* Parse a whole configuration text of len bytes (need not be NUL-terminated).
 * `name` is used in messages ("name:line: ..."). Keys missing from the text
 * keep their defaults. Returns 0 with *out filled, or -EINVAL with a one-line
 * message in err (*out untouched). err may be NULL when errlen is 0. */
int config_parse_buf(const char *name, const char *text, size_t len,
		     struct config *out, char *err, size_t errlen);

/* Read and parse the file at path. Returns 0, -EINVAL (bad content), -EFBIG
 * (over CONFIG_FILE_MAX) or the -errno of open/read; err says why, naming the
 * path. *out is untouched on failure. */
int config_load(const char *path, struct config *out, char *err, size_t errlen);

/* Told about one key whose value differs in the new file. applied: the new
 * value is now live (a reloadable key); false: it takes a restart. The texts
 * are the values as config_value_text prints them (secrets masked). */
typedef void config_change_fn(const struct config_key_info *key, bool applied,
			      const char *old_text, const char *new_text,
			      void *arg);

/* Copy every reloadable key that differs from fresh into live, calling fn
 * (may be NULL) for each key that differs, applied or not. Returns how many
 * differing keys need a restart. */
int config_apply(struct config *live, const struct config *fresh,
		 config_change_fn *fn, void *arg);

/* SIGHUP: config_load(path) then config_apply. On any error returns it (as
 * config_load does) and changes nothing in *live. Otherwise returns how many
 * changed keys need a restart (>= 0). */
int config_reload(const char *path, struct config *live, config_change_fn *fn,
		  void *arg, char *err, size_t errlen);

/* The key table, for documentation and tools: entry i in table order, or NULL
 * past the end, so `for (i = 0; (k = config_key_at(i)); i++)` walks it. */
const struct config_key_info *config_key_at(size_t i);
/* The entry of the key called name, or NULL. */
const struct config_key_info *config_key_find(const char *name);

/* "string", "integer", "boolean", "duration", "address", "zmq endpoint",
 * "enum". */
const char *config_type_name(enum config_type t);

/* One line describing a key's type, default, range and SIGHUP behaviour, e.g.
 * "duration, default 60s, range 0s..1h, SIGHUP reloads". Returns the length
 * snprintf would have written. */
int config_key_describe(const struct config_key_info *key, char *buf,
			size_t len);

/* The value of key in c as it would be written in the file, except that a
 * secret prints as (set) when not empty. Returns the length snprintf would
 * have written. */
int config_value_text(const struct config *c, const struct config_key_info *key,
		      char *buf, size_t len);

/* Format ms as the shortest exact duration text: "0s", "500ms", "60s" -> "1m",
 * "2h". Returns the length snprintf would have written. */
int config_duration_text(uint64_t ms, char *buf, size_t len);

#endif
