/* ctl_time: parse and normalise the ISO 8601 times of xpushctl's options.
 * Owns only pure conversions (text -> time_t -> UTC text); must not print,
 * exit or touch the database. */
#include "ctl_time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* n digits at *p into *v; advances *p. */
static int digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return 0;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

int ctl_time_parse(const char *s, char *out, size_t outlen)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, has_zone = 0, off_min = 0;
	char frac[7] = "";
	struct tm tm;
	time_t t;

	if (!s || outlen < 32)
		return -1;
	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
	    digits(&p, 2, &d) < 0)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) < 0)
				return -1;
			if (*p == '.' || *p == ',') {
				size_t n = 0;
				p++;
				if (*p < '0' || *p > '9')
					return -1;
				for (; *p >= '0' && *p <= '9'; p++)
					if (n < 6)
						frac[n++] = *p;
				frac[n] = '\0';
			}
		}
		if (h > 23 || mi > 59 || sec > 59)
			return -1;
	}
	if (*p == 'Z' || *p == 'z') {
		has_zone = 1;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if (digits(&p, 2, &oh) < 0)
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &om) < 0)
				return -1;
		} else if (*p >= '0' && *p <= '9') {
			if (digits(&p, 2, &om) < 0)
				return -1;
		}
		if (oh > 23 || om > 59)
			return -1;
		has_zone = 1;
		off_min = sign * (oh * 60 + om);
	}
	if (*p != '\0')
		return -1;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (has_zone) {
		t = timegm(&tm);
		if (t == (time_t)-1)
			return -1;
		t -= (time_t)off_min * 60;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
		if (t == (time_t)-1)
			return -1;
	}
	if (!gmtime_r(&t, &tm))
		return -1;
	if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return -1;
	size_t n = strlen(out);
	int w = snprintf(out + n, outlen - n, "%s%sZ", *frac ? "." : "", frac);
	if (w < 0 || (size_t)w >= outlen - n)
		return -1;
	return 0;
}
