/**
 * The magic host http://mitm.it (and https://mitm.it once the CA is trusted), answered by the
 * proxy itself: the CA certificate to download and how to install it, as mitmproxy does.
 */
import type { CaContext } from "./shared.ts";

export const MAGIC_HOST = "mitm.it";

const utf8 = new TextEncoder();

/** An answer of the certificate page: status, header fields (name, value, ...) and body. */
export interface MitmItAnswer {
  status: number;
  headers: string[];
  body: Uint8Array;
}

/** The answer to a request for `path` on mitm.it, whatever HTTP version carries it. */
export function mitmItAnswer(ca: CaContext, path: string): MitmItAnswer {
  const p = path.split("?")[0];
  if (p === "/cert/pem") {
    return answer(200, "application/x-x509-ca-cert", utf8.encode(ca.authority.certPem), [
      "Content-Disposition",
      'attachment; filename="mitm-ca-cert.pem"',
    ]);
  }
  if (p === "/cert/cer") {
    return answer(200, "application/pkix-cert", ca.authority.certDer, [
      "Content-Disposition",
      'attachment; filename="mitm-ca-cert.cer"',
    ]);
  }
  if (p === "/" || p === "/index.html") {
    return answer(200, "text/html; charset=utf-8", utf8.encode(page(ca)));
  }
  return answer(404, "text/plain; charset=utf-8", utf8.encode("Not found. Try http://mitm.it/\n"));
}

function answer(
  status: number,
  type: string,
  body: Uint8Array,
  extra: string[] = [],
): MitmItAnswer {
  const headers = [
    "Content-Type",
    type,
    "Content-Length",
    String(body.length),
    "Cache-Control",
    "no-store",
    ...extra,
  ];
  return { status, headers, body };
}

function page(ca: CaContext): string {
  const file = ca.files.certPemFile;
  const steps: Array<[string, string]> = [
    [
      "Linux (Debian, Ubuntu)",
      `sudo cp mitm-ca-cert.pem /usr/local/share/ca-certificates/mitm-ts.crt && sudo update-ca-certificates`,
    ],
    [
      "Linux (Fedora, RHEL)",
      `sudo cp mitm-ca-cert.pem /etc/pki/ca-trust/source/anchors/mitm-ts.pem && sudo update-ca-trust`,
    ],
    [
      "macOS",
      `sudo security add-trusted-cert -d -p ssl -r trustRoot -k /Library/Keychains/System.keychain mitm-ca-cert.pem`,
    ],
    ["Windows", `certutil -addstore root mitm-ca-cert.cer   (in an administrator prompt)`],
    [
      "Firefox",
      "Settings, Privacy & Security, Certificates, View Certificates, Authorities, Import: mitm-ca-cert.pem, trust for websites",
    ],
    [
      "Android",
      "Settings, Security, Encryption & credentials, Install a certificate, CA certificate: mitm-ca-cert.cer (apps must opt in to user CAs)",
    ],
    [
      "iOS",
      "Open http://mitm.it/cert/pem in Safari, install the profile in Settings, then enable it in Settings, General, About, Certificate Trust Settings",
    ],
    ["curl", `curl --cacert ${file} ...`],
    ["Node.js", `NODE_EXTRA_CA_CERTS=${file} node app.js`],
    ["Deno", `DENO_CERT=${file} deno run ...`],
    ["Bun", `NODE_EXTRA_CA_CERTS=${file} bun app.ts`],
    [
      "Python (requests, httpx), OpenSSL tools",
      `SSL_CERT_FILE=${file} REQUESTS_CA_BUNDLE=${file} python app.py`,
    ],
  ];
  const rows = steps.map(([who, how]) =>
    `<dt>${escape(who)}</dt><dd><code>${escape(how)}</code></dd>`
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mitm.ts certificate</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:0 .2rem;word-break:break-all}dt{font-weight:600;margin-top:.8rem}</style>
</head><body>
<h1>Trust the mitm.ts certificate authority</h1>
<p>Traffic from this device goes through mitm.ts. To let it show HTTPS, install its CA certificate:
<a href="/cert/pem">mitm-ca-cert.pem</a> (most systems) or <a href="/cert/cer">mitm-ca-cert.cer</a>
(Windows, Android).</p>
<p>Anyone holding the CA key (<code>${escape(ca.files.keyFile)}</code>) can impersonate any
site to a device that trusts it: install it only on devices you control, and remove it when done.</p>
<dl>${rows.join("\n")}</dl>
</body></html>
`;
}

function escape(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}
