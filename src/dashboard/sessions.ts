/**
 * Dashboard sessions: a random id in an HttpOnly cookie stands for the API key that logged in;
 * the key itself is never stored here or sent back. Sessions live in the daemon's memory (a
 * restart logs everyone out), expire, and are bounded in number.
 */
import { Buffer } from "node:buffer";
import type { Principal } from "../api/keys.ts";

export interface Session {
  id: string;
  principal: Principal;
  /** Every form that changes something carries it back (see app.tsx). */
  csrf: string;
  expiresAt: number;
}

/** How long a session lasts from login. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** Sessions held at once; the oldest goes first. */
const MAX_SESSIONS = 1_000;

/** 256 random bits, base64url (as API keys' secrets are made, src/api/keys.ts). */
function randomToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export class Sessions {
  readonly #sessions = new Map<string, Session>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  create(principal: Principal): Session {
    if (this.#sessions.size >= MAX_SESSIONS) {
      this.#sessions.delete(this.#sessions.keys().next().value!);
    }
    const session = {
      id: randomToken(),
      principal,
      csrf: randomToken(),
      expiresAt: this.#now() + SESSION_TTL_MS,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, or null (an expired one is forgotten). */
  get(id: string | undefined): Session | null {
    const session = id ? this.#sessions.get(id) : undefined;
    if (!session) return null;
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(session.id);
      return null;
    }
    return session;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }
}
