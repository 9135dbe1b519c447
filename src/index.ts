// The package's programmatic API (what `import ... from 'spoolgate'` gives).
export * from './core/index.js';
export {
  sendMail, SendMailError, type SendMailOptions, type SendMailRecipient, type SendMailReceipt, type SendMailErrorCode, type RecipientType,
} from './submit/index.js';
