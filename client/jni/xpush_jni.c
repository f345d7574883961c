/* xpush_jni: the JNI layer of org.xpush.XPushClient. Marshalling only: Java
 * byte[] (UTF-8) <-> C strings, struct fields <-> method arguments, and the
 * native client's pointer as a Java long. Every decision (threads, which
 * listener method, what an exception means) is made in XPushClient.java.
 *
 * Threads: nativeRun is called on the Java loop thread and keeps the whole
 * life of the native client (create, run, free) on it, so libstrophe is only
 * ever used there; the callbacks arrive on that thread too, with its JNIEnv.
 * nativeStop and nativeSetNetwork are the library's thread-safe calls; Java
 * serialises them with the detach before the free.
 *
 * Each callback runs in its own JNI local frame: the loop lives for hours in
 * one native call, so local references must not pile up. This file never
 * prints, exits or touches signals (HotSpot and ART already handle SIGPIPE,
 * which libxpush requires to be ignored or handled). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef XPUSH_JNI_NO_GENERATED_HEADER
/* The Android sample's CMake build runs before javac: the signatures are
 * checked against javac -h output by the host build (client/jni/meson.build). */
#include <jni.h>
#else
#include "org_xpush_XPushClient.h"
#endif
#include "xpush.h"

static jmethodID m_attach, m_detach, m_notification, m_retract, m_event, m_log;
static jclass c_bytes; /* byte[] (global reference) */

/* What the callbacks need: the loop thread's env and the XPushClient. */
struct jctx {
	JNIEnv *env;
	jobject self;
};

JNIEXPORT void JNICALL Java_org_xpush_XPushClient_nativeInit(JNIEnv *env, jclass cls)
{
	jclass b;

	m_attach = (*env)->GetMethodID(env, cls, "attach", "(J)V");
	m_detach = (*env)->GetMethodID(env, cls, "detach", "()V");
	m_notification = (*env)->GetMethodID(env, cls, "onNotification", "([[BZ)V");
	m_retract = (*env)->GetMethodID(env, cls, "onRetract", "([BZ)V");
	m_event = (*env)->GetMethodID(env, cls, "onEvent", "(IIII[B[BZ)V");
	m_log = (*env)->GetMethodID(env, cls, "onLog", "(I[B)V");
	b = (*env)->FindClass(env, "[B");
	if (b) {
		c_bytes = (*env)->NewGlobalRef(env, b);
		(*env)->DeleteLocalRef(env, b);
	}
	/* a missing method leaves NoSuchMethodError pending: the class fails to load */
}

/* Wipe a secret (explicit_bzero is missing from older Android libcs). */
static void wipe(char *s)
{
	volatile char *p = s;

	while (*p)
		*p++ = '\0';
}

/* A C string as a new byte[] (NULL -> null). */
static jbyteArray bytes(JNIEnv *env, const char *s)
{
	jsize n;
	jbyteArray a;

	if (!s)
		return NULL;
	n = (jsize)strlen(s);
	a = (*env)->NewByteArray(env, n);
	if (a && n)
		(*env)->SetByteArrayRegion(env, a, 0, n, (const jbyte *)s);
	return a;
}

/* A byte[] as a malloc'ed C string; NULL for null. *bad is set when the
 * array holds a NUL byte (not representable) or memory ran out. */
static char *cstr(JNIEnv *env, jbyteArray a, int *bad)
{
	jsize n;
	char *s;

	if (!a)
		return NULL;
	n = (*env)->GetArrayLength(env, a);
	if (!(s = malloc((size_t)n + 1))) {
		*bad = XPUSH_ENOMEM;
		return NULL;
	}
	(*env)->GetByteArrayRegion(env, a, 0, n, (jbyte *)s);
	s[n] = '\0';
	if (strlen(s) != (size_t)n) {
		*bad = XPUSH_EINVAL;
		free(s);
		return NULL;
	}
	return s;
}

/* Build a configuration from alternating key/value arrays. On failure *err
 * (if given) gets the reason as a new byte[]. */
static int build_config(JNIEnv *env, jobjectArray kv, xpush_config **out, jbyteArray *err)
{
	xpush_config *cfg = NULL;
	jsize n = kv ? (*env)->GetArrayLength(env, kv) : 0;
	int rc;

	*out = NULL;
	if ((rc = xpush_config_new(&cfg)) != XPUSH_OK)
		return rc;
	for (jsize i = 0; i + 1 < n; i += 2) {
		jbyteArray jk = (*env)->GetObjectArrayElement(env, kv, i);
		jbyteArray jv = (*env)->GetObjectArrayElement(env, kv, i + 1);
		int bad = 0;
		char *k = cstr(env, jk, &bad), *v = cstr(env, jv, &bad);

		if (bad)
			rc = bad;
		else if (!k)
			rc = XPUSH_EINVAL;
		else
			rc = xpush_config_set(cfg, k, v);
		if (rc != XPUSH_OK && err)
			*err = bytes(env,
			             rc == XPUSH_EINVAL && !bad && k ? xpush_config_last_error(cfg)
			             : bad == XPUSH_EINVAL ? "a key or value holds a NUL character"
			                                   : xpush_strerror(rc));
		if (v)
			wipe(v); /* it may be the password */
		free(k);
		free(v);
		(*env)->DeleteLocalRef(env, jk);
		(*env)->DeleteLocalRef(env, jv);
		if (rc != XPUSH_OK) {
			xpush_config_free(cfg);
			return rc;
		}
	}
	*out = cfg;
	return XPUSH_OK;
}

JNIEXPORT jbyteArray JNICALL Java_org_xpush_XPushClient_nativeValidate(JNIEnv *env, jclass cls,
                                                                       jobjectArray kv)
{
	xpush_config *cfg;
	jbyteArray err = NULL;

	if (build_config(env, kv, &cfg, &err) == XPUSH_OK)
		xpush_config_free(cfg);
	return err;
}

static void on_log(void *ud, enum xpush_log_level level, const char *msg)
{
	struct jctx *j = ud;
	JNIEnv *env = j->env;

	if ((*env)->PushLocalFrame(env, 4) != 0)
		return;
	(*env)->CallVoidMethod(env, j->self, m_log, (jint)level, bytes(env, msg));
	(*env)->ExceptionClear(env);
	(*env)->PopLocalFrame(env, NULL);
}

static void on_notify(void *ud, const struct xpush_notification *n)
{
	struct jctx *j = ud;
	JNIEnv *env = j->env;
	const char *f[] = { n->id,    n->app,  n->priority, n->collapse, n->expires, n->created,
		            n->title, n->body, n->uri,      n->payload,  n->from,    n->iq_id };
	const jsize nf = (jsize)(sizeof f / sizeof f[0]);
	jobjectArray arr;

	if ((*env)->PushLocalFrame(env, nf + 4) != 0)
		return;
	if ((arr = (*env)->NewObjectArray(env, nf, c_bytes, NULL)) != NULL) {
		for (jsize i = 0; i < nf; i++)
			(*env)->SetObjectArrayElement(env, arr, i, bytes(env, f[i]));
		(*env)->CallVoidMethod(env, j->self, m_notification, arr,
		                       (jboolean)(n->maybe_shown != 0));
	}
	(*env)->ExceptionClear(env);
	(*env)->PopLocalFrame(env, NULL);
}

static void on_retract(void *ud, const struct xpush_retract *r)
{
	struct jctx *j = ud;
	JNIEnv *env = j->env;

	if ((*env)->PushLocalFrame(env, 4) != 0)
		return;
	(*env)->CallVoidMethod(env, j->self, m_retract, bytes(env, r->id),
	                       (jboolean)(r->seen != 0));
	(*env)->ExceptionClear(env);
	(*env)->PopLocalFrame(env, NULL);
}

static void on_event(void *ud, const struct xpush_event *ev)
{
	struct jctx *j = ud;
	JNIEnv *env = j->env;

	if ((*env)->PushLocalFrame(env, 4) != 0)
		return;
	(*env)->CallVoidMethod(env, j->self, m_event, (jint)ev->type, (jint)ev->state,
	                       (jint)ev->old_state, (jint)ev->error, bytes(env, ev->reason),
	                       bytes(env, ev->id), (jboolean)(ev->duplicate != 0));
	(*env)->ExceptionClear(env);
	(*env)->PopLocalFrame(env, NULL);
}

JNIEXPORT jint JNICALL Java_org_xpush_XPushClient_nativeRun(JNIEnv *env, jobject self,
                                                            jobjectArray kv)
{
	struct jctx j = { env, self };
	xpush_config *cfg;
	xpush_client *c = NULL;
	int rc;

	if ((rc = build_config(env, kv, &cfg, NULL)) != XPUSH_OK)
		return rc;
	xpush_config_set_log_cb(cfg, on_log);
	xpush_config_set_notify_cb(cfg, on_notify);
	xpush_config_set_retract_cb(cfg, on_retract);
	xpush_config_set_event_cb(cfg, on_event);
	xpush_config_set_userdata(cfg, &j);
	rc = xpush_client_new(cfg, &c);
	xpush_config_free(cfg);
	if (rc != XPUSH_OK)
		return rc;
	(*env)->CallVoidMethod(env, self, m_attach, (jlong)(intptr_t)c);
	(*env)->ExceptionClear(env);
	rc = xpush_client_run(c);
	(*env)->CallVoidMethod(env, self, m_detach);
	(*env)->ExceptionClear(env);
	xpush_client_free(c);
	return rc;
}

JNIEXPORT void JNICALL Java_org_xpush_XPushClient_nativeStop(JNIEnv *env, jclass cls, jlong h)
{
	xpush_client_stop((xpush_client *)(intptr_t)h);
}

JNIEXPORT jint JNICALL Java_org_xpush_XPushClient_nativeSetNetwork(JNIEnv *env, jclass cls, jlong h,
                                                                   jbyteArray key)
{
	int bad = 0, rc;
	char *k = cstr(env, key, &bad);

	if (bad)
		return bad;
	rc = xpush_client_set_network((xpush_client *)(intptr_t)h, k);
	free(k);
	return rc;
}

JNIEXPORT jbyteArray JNICALL Java_org_xpush_XPushClient_nativeStrerror(JNIEnv *env, jclass cls,
                                                                       jint code)
{
	return bytes(env, xpush_strerror(code));
}

JNIEXPORT jbyteArray JNICALL Java_org_xpush_XPushClient_nativeVersion(JNIEnv *env, jclass cls)
{
	return bytes(env, xpush_version());
}
