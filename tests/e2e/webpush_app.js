// webpush_app.js: both ends of a Web Push subscription for the end-to-end tests, on code
// nobody here wrote (tests/package.json pins it):
//   keys FILE                     the receiving app's subscription keys (P-256 + auth secret)
//   send ENDPOINT KEYS BODYFILE [TTL [URGENCY [TOPIC]]]
//                                 npm web-push builds the request (RFC 8291 aes128gcm
//                                 encryption); it is POSTed with node's http (web-push itself
//                                 speaks https only). Prints "status=N location=L ttl=T" and
//                                 the response body.
//                                 With VAPID_KEYS=FILE (from `vapidkeys FILE`) the request carries
//                                 web-push's VAPID header (RFC 8292), for audience VAPID_AUD
//                                 (default: the endpoint's origin) and expiry VAPID_EXP (Unix s).
//   vapidkeys FILE                an application server key pair (web-push generateVAPIDKeys)
//   decrypt KEYS B64              npm http_ece decrypts a <push/> body; prints it as base64.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const webpush = require('web-push');
const ece = require('http_ece');

const [mode, ...args] = process.argv.slice(2);

function b64url(buf) {
  return Buffer.from(buf).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

if (mode === 'keys') {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  fs.writeFileSync(args[0], JSON.stringify({
    p256dh: b64url(ecdh.getPublicKey()),
    auth: b64url(crypto.randomBytes(16)),
    priv: b64url(ecdh.getPrivateKey()),
  }));
} else if (mode === 'send') {
  const [endpoint, keysFile, bodyFile, ttl, urgency, topic] = args;
  const k = JSON.parse(fs.readFileSync(keysFile));
  const opts = {};
  if (ttl !== undefined && ttl !== '') opts.TTL = Number(ttl);
  if (urgency) opts.urgency = urgency;
  if (topic) opts.topic = topic;
  const d = webpush.generateRequestDetails(
    { endpoint, keys: { p256dh: k.p256dh, auth: k.auth } }, fs.readFileSync(bodyFile), opts);
  if (process.env.VAPID_KEYS) {
    const v = JSON.parse(fs.readFileSync(process.env.VAPID_KEYS));
    const aud = process.env.VAPID_AUD || new URL(endpoint).origin;
    const exp = process.env.VAPID_EXP ? Number(process.env.VAPID_EXP) : undefined;
    const h = webpush.getVapidHeaders(aud, 'mailto:ops@example.org', v.publicKey, v.privateKey,
      'aes128gcm', exp);
    d.headers.Authorization = h.Authorization;
  }
  const req = http.request(d.endpoint, { method: d.method, headers: d.headers }, (res) => {
    let body = '';
    res.on('data', (c) => { body += c; });
    res.on('end', () => {
      console.log(`status=${res.statusCode} location=${res.headers.location || '-'} ttl=${res.headers.ttl || '-'}`);
      if (body) process.stdout.write(body);
    });
  });
  req.on('error', (e) => { console.log(`error=${e.message}`); process.exitCode = 1; });
  req.end(d.body);
} else if (mode === 'vapidkeys') {
  fs.writeFileSync(args[0], JSON.stringify(webpush.generateVAPIDKeys()));
} else if (mode === 'decrypt') {
  const k = JSON.parse(fs.readFileSync(args[0]));
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(k.priv, 'base64url'));
  const plain = ece.decrypt(Buffer.from(args[1], 'base64'),
    { version: 'aes128gcm', privateKey: ecdh, authSecret: k.auth });
  console.log(plain.toString('base64'));
} else {
  console.error('usage: webpush_app.js keys|send|decrypt ...');
  process.exit(2);
}
