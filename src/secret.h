/*
 * secret.h (internal) - keeping passwords and other secrets out of what
 * cairn prints, logs, stores and hands to hooks.
 *
 *  - A set of known secret values (cairn_secrets): the passwords of the
 *    connection strings and URLs the configuration names, the values of
 *    the variables its webhook `secret_env:` entries name, the password
 *    of the live connection.  Each value is kept with its percent-encoded
 *    spelling too, since that is how it appears inside a URL.
 *  - Scrubbing: every occurrence of a known value (of at least
 *    CAIRN_SECRET_MIN_LEN bytes: shorter ones would garble text more
 *    than they protect) in a buffer becomes "********".
 *  - Recognising a variable that must not reach a hook: its value is a
 *    URL or connection string that carries a password, or it contains a
 *    known secret.
 *  - Redacting libpq's messages about a connection string: a string
 *    libpq cannot parse is echoed back in its errors ('invalid
 *    percent-encoded token: "S3cr3t%ZZ"'), and the password has not been
 *    recognised yet.  For such a string every quoted part of the message
 *    that is not a connection keyword is masked; for any string, so is
 *    anything that looks like its password.
 */
#ifndef CAIRN_SRC_SECRET_H
#define CAIRN_SRC_SECRET_H

#include "util/attrs.h"

#include <stdbool.h>

#include "util/buf.h"
#include "util/util.h"

#define CAIRN_SECRET_MASK "********"
#define CAIRN_SECRET_MIN_LEN 4

typedef struct {
	cairn_strvec values; /* raw and percent-encoded spellings */
} cairn_secrets;

#define CAIRN_SECRETS_INIT { CAIRN_STRVEC_INIT }

/* Adds a secret value (ignored when NULL or empty).  0 or CAIRN_ERROR. */
CAIRN_WARN_UNUSED int cairn_secrets__add(cairn_secrets *s, const char *value);
/*
 * Adds the password of a connection string (URL or key=value) or of an
 * http(s) URL's user info, when it has one; unparsable strings are
 * searched by hand for what libpq would take as the password.
 */
CAIRN_WARN_UNUSED int cairn_secrets__add_from_url(cairn_secrets *s, const char *url);
/* Adds every value of other. */
CAIRN_WARN_UNUSED int cairn_secrets__merge(cairn_secrets *s, const cairn_secrets *other);
/* Wipes the values and frees them. */
void cairn_secrets__dispose(cairn_secrets *s);

/* True when text holds one of the values (any length, exact match). */
bool cairn_secrets__found_in(const cairn_secrets *s, const char *text);

/* Replaces every known value in b with CAIRN_SECRET_MASK. */
CAIRN_WARN_UNUSED int cairn_secrets__scrub(const cairn_secrets *s, cairn_buf *b);

/*
 * True when value is a URL with a password in its user info
 * ("scheme://user:pass@host"), or a connection string or URL query that
 * sets password=.
 */
bool cairn_secret__has_password(const char *value);

/*
 * A copy of msg (a libpq message about conninfo) with the password and
 * every quoted non-keyword masked; *out is NULL only on out of memory.
 */
CAIRN_WARN_UNUSED int cairn_secret__redact_message(char **out, const char *msg,
				 const char *conninfo);

#endif
