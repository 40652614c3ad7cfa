// Small pieces every page uses.
import { html } from './htm-preact-standalone.js';

/** A refusal or failure, with the server's error code. */
export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert"><strong>${error.code ?? 'ERROR'}</strong> ${error.message}</div>`;
}

/** Statuses after which a ticket takes no more work (domain `is_terminal`). */
export const FINISHED = ['CLOSED', 'WITHDRAWN', 'MERGED'];
