// The longest text the server keeps per field (serve/storage/fields.py MAX_LEN), served with the
// page as /static/limits.json, so an input here never accepts more than the API does.

let pending = null;

function maxLengths() {
  pending ??= fetch('/static/limits.json')
    .then((res) => (res.ok ? res.json() : {}))
    .then((body) => body.max_len || {})
    .catch(() => ({})); // without it the API still refuses an over-long field, in words
  return pending;
}

// Give `input` the server's length limit for `field` once it is known; returns the input.
export function limitLength(input, field) {
  maxLengths().then((max) => {
    if (max[field]) input.maxLength = max[field];
  });
  return input;
}
