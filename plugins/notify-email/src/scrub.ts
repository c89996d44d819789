/** Removes secrets from text bound for a message or a log line. */
export type Scrub = (text: string) => string;

/**
 * The SMTP password must never reach a message or a log, not even inside a server's echo of an AUTH
 * exchange: its plain form and the base64 forms AUTH PLAIN and AUTH LOGIN put on the wire are all replaced.
 * Private keys are cut out whole, whatever produced the text.
 */
export function scrubberOf(secrets: string[], user?: string): Scrub {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(Buffer.from(secret).toString('base64'));
    if (user !== undefined) forms.add(Buffer.from(`\0${user}\0${secret}`).toString('base64'));
  }
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text.replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[redacted private key]');
    for (const form of ordered) out = out.split(form).join('[redacted]');
    return out;
  };
}
