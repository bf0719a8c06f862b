// The code under test: converts amounts with rates from the API at $API_URL.
const API = process.env.API_URL ?? "http://127.0.0.1:8787";

export async function convert(amount, from, to) {
  const res = await fetch(`${API}/rates?base=${encodeURIComponent(from)}`);
  if (!res.ok) throw new Error(`rates API answered ${res.status}`);
  const { rates } = await res.json();
  if (!(to in rates)) throw new Error(`no rate from ${from} to ${to}`);
  return Math.round(amount * rates[to] * 100) / 100;
}
