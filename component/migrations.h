/* migrations: schema/NNN_name.sql files embedded at build time (scripts/embed_sql.py). */
#ifndef XPUSH_MIGRATIONS_H
#define XPUSH_MIGRATIONS_H

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const unsigned migrations_count;

#endif
