// What the ack benchmark's client and its server processes agree on.
export const SIGNING_SECRET = 'bench-signing-secret';
export const ALERT_TOKEN = 'bench-alert-token';
export const CHANNEL = 'C0BENCH';
