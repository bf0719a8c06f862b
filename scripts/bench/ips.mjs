// Loopback addresses for the "500 host names" benchmark: the i-th after 127.0.1.0, 250 per /24
// (.1 to .250). Linux routes all of 127.0.0.0/8 to the loopback interface.
export function spreadIp(i) {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}
