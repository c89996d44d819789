// Email notification: one message per run when services produced warnings, over SMTP or the local sendmail,
// with an outbox so that a notice that cannot be sent now is sent by the next run.
import { ContainerModule, TOKENS, definePlugin, type CertsmithConfig, type Clock } from '@certsmith/core';
import { EmailNotifier } from './email-notifier.js';
import { OPTIONS_SCHEMA, settingsOf, type RawEmailOptions } from './options.js';

export { EmailNotifier, FROM_NAME, MailError } from './email-notifier.js';
export { buildNotice, subjectOf, type Notice, type NoticeRow, type ServiceNotice } from './notice.js';
export { renderHtml, renderText } from './render.js';
export { Outbox } from './outbox.js';
export { settingsOf, OPTIONS_SCHEMA, type EmailSettings, type RawEmailOptions } from './options.js';
export type { MailSender } from './sender.js';

export const manifest = definePlugin({
  name: '@certsmith/notify-email',
  version: '0.1.0',
  apiVersion: 1,
  optionsSchema: OPTIONS_SCHEMA,
  module: (options) =>
    new ContainerModule(({ bind }) => {
      bind(TOKENS.Notifier).toDynamicValue((ctx) => {
        const config = ctx.get<CertsmithConfig>(TOKENS.Config);
        return new EmailNotifier(settingsOf(options as RawEmailOptions, config), ctx.get<Clock>(TOKENS.Clock));
      });
    }),
});
export default manifest;
