// Talking to the /v1 API: the inspector key, worded errors, images fetched with the key.
//
// The key lives in sessionStorage only (gone when the tab closes). When the API answers 401 the
// page asks for a key through the prompt that app.js registers, then retries the request once
// per key the inspector enters; cancelling gives up with the 401 error.

const KEY_STORAGE = 'counterscan.apiKey';

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status; // 0 = the service could not be reached
    this.detail = detail || '';
  }
}

export function getKey() {
  return sessionStorage.getItem(KEY_STORAGE) || '';
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
  document.dispatchEvent(new CustomEvent('keychange'));
}

let keyPrompt = null; // async ({rejected, detail}) => key | null
let pendingPrompt = null; // one dialog for all requests that got a 401 together

export function onKeyNeeded(prompt) {
  keyPrompt = prompt;
}

function askForKey(info) {
  if (!pendingPrompt) {
    pendingPrompt = keyPrompt(info).finally(() => {
      pendingPrompt = null;
    });
  }
  return pendingPrompt;
}

// FastAPI's detail is a string, or a list of {loc, msg} for malformed requests.
async function readDetail(res) {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    const detail = body && body.detail;
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((d) => {
          const where = Array.isArray(d.loc) ? d.loc.filter((p) => p !== 'body').join('.') : '';
          return where ? `${d.msg} (${where})` : d.msg;
        })
        .join('; ');
    }
    return '';
  } catch {
    // Not JSON (a proxy's page, say): show it only if it is short plain text.
    return text.length < 200 && !text.includes('<') ? text.trim() : '';
  }
}

/**
 * fetch() with the key, retried after asking for one on 401.
 * options: {method, json, form, as: 'json' | 'blob' | 'response', signal}
 */
export async function api(path, options = {}) {
  const { method = 'GET', json, form, as = 'json', signal } = options;
  for (;;) {
    const usedKey = getKey();
    const headers = { Accept: as === 'json' ? 'application/json' : '*/*' };
    if (usedKey) headers['X-API-Key'] = usedKey;
    let body;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    let res;
    try {
      res = await fetch(path, { method, headers, body, signal, credentials: 'same-origin' });
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new ApiError(0, err.message);
    }
    if (res.status === 401 && keyPrompt) {
      const detail = await readDetail(res);
      if (getKey() !== usedKey) continue; // another request already got a new key
      const key = await askForKey({ rejected: Boolean(usedKey), detail });
      if (key) {
        setKey(key);
        continue;
      }
      throw new ApiError(401, detail);
    }
    if (!res.ok) throw new ApiError(res.status, await readDetail(res));
    if (as === 'blob') return res.blob();
    if (as === 'response') return res;
    return res.json();
  }
}

/** An object URL for an image the API guards with the key; the caller revokes it. */
export async function imageObjectUrl(path, signal) {
  const blob = await api(path, { as: 'blob', signal });
  return URL.createObjectURL(blob);
}

export function queryString(params) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => q.append(name, v));
    else q.set(name, String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
