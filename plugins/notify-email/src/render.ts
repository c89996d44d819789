import type { Notice, ServiceNotice } from './notice.js';

const HEADERS = ['Defect', 'Detail', 'What was done'] as const;
const WIDTHS = [28, 44, 36];

/** The plain-text part: the same facts as the HTML part, tables drawn with ASCII so any mail reader shows them. */
export function renderText(notice: Notice): string {
  const lines: string[] = [];
  lines.push(`${notice.services.length} service(s) on ${notice.hostname} generated warnings while checking SSL certificates.`);
  lines.push('');
  lines.push(`Server: ${notice.hostname}`);
  lines.push(`Run:    ${notice.startedAt} to ${notice.finishedAt}`);
  lines.push(`Log:    ${notice.logFile ?? '(no event log was written)'}`);
  if (notice.notices.length) {
    lines.push('', 'Notices:');
    for (const n of notice.notices) lines.push(`  * ${n}`);
  }
  for (const service of notice.services) {
    lines.push('', heading(service));
    if (service.certificate) lines.push(`Certificate: ${service.certificate}`);
    lines.push(...table(service));
  }
  lines.push('', `The full log of this run: ${notice.logFile ?? '(none)'}`, '-- ', 'certsmith');
  return `${lines.join('\n')}\n`;
}

/** The HTML part: one <table> per service. Every value is escaped; nothing is fetched from outside. */
export function renderHtml(notice: Notice): string {
  const out: string[] = [];
  out.push('<!DOCTYPE html><html><head><meta charset="utf-8"><title>', esc(`${notice.services.length} service(s) generated warnings`), '</title></head>');
  out.push('<body style="font-family: sans-serif; font-size: 14px">');
  out.push(`<p>${notice.services.length} service(s) on <b>${esc(notice.hostname)}</b> generated warnings while checking SSL certificates.</p>`);
  out.push('<table class="run" style="border-collapse: collapse">');
  out.push(`<tr><th align="left">Server</th><td>${esc(notice.hostname)}</td></tr>`);
  out.push(`<tr><th align="left">Run</th><td>${esc(notice.startedAt)} to ${esc(notice.finishedAt)}</td></tr>`);
  out.push(`<tr><th align="left">Log</th><td><code>${esc(notice.logFile ?? '(no event log was written)')}</code></td></tr>`);
  out.push('</table>');
  if (notice.notices.length) {
    out.push('<h3>Notices</h3><ul class="notices">');
    for (const n of notice.notices) out.push(`<li>${esc(n)}</li>`);
    out.push('</ul>');
  }
  for (const service of notice.services) {
    out.push(`<h3>${esc(heading(service))}</h3>`);
    if (service.certificate) out.push(`<p>Certificate: ${esc(service.certificate)}</p>`);
    out.push(
      `<table class="service" data-service="${esc(service.service)}" data-target="${esc(service.target)}" border="1" cellpadding="4" style="border-collapse: collapse">`,
    );
    out.push(`<thead><tr>${HEADERS.map((h) => `<th align="left">${esc(h)}</th>`).join('')}</tr></thead><tbody>`);
    for (const row of service.rows) out.push(`<tr><td><code>${esc(row.code)}</code></td><td>${esc(row.detail)}</td><td>${esc(row.done)}</td></tr>`);
    out.push('</tbody></table>');
  }
  out.push(`<p>The full log of this run: <code>${esc(notice.logFile ?? '(none)')}</code></p>`);
  out.push('</body></html>');
  return out.join('\n');
}

function heading(service: ServiceNotice): string {
  return `Service: ${service.service} (target ${service.target}: ${service.names.join(', ')})`;
}

function table(service: ServiceNotice): string[] {
  const rule = `+${WIDTHS.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const render = (cells: readonly string[]) => {
    const wrapped = cells.map((c, i) => wrap(c, WIDTHS[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, line) => `| ${wrapped.map((w, i) => (w[line] ?? '').padEnd(WIDTHS[i]!)).join(' | ')} |`);
  };
  return [rule, ...render(HEADERS), rule, ...service.rows.flatMap((r) => render([r.code, r.detail, r.done])), rule];
}

/** Wraps at spaces; a word longer than the column (a path) is cut into pieces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let rest = word;
    while (rest.length > width) {
      if (line) lines.push(line);
      line = '';
      lines.push(rest.slice(0, width));
      rest = rest.slice(width);
    }
    if (!line) line = rest;
    else if (line.length + 1 + rest.length <= width) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
