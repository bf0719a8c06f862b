/** @jsxImportSource preact */
/**
 * Rules at run time (GET/POST/PUT/DELETE /api/rules): the rewrites and breakpoints that are CLI
 * flags (block list, map local/remote, modify headers/body, intercept breakpoints), listed, added,
 * changed and removed while the proxy runs. Each kind's syntax comes from the proxy.
 */
import { useEffect, useState } from "preact/hooks";
import { callJson } from "./api.ts";

interface Rule {
  id: string;
  kind: string;
  spec: string;
}
interface RuleList {
  rules: Rule[];
  kinds: Record<string, string>;
}

export function Rules(props: { onClose(): void }) {
  const [list, setList] = useState<RuleList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [kind, setKind] = useState("");
  const [spec, setSpec] = useState("");
  const [edits, setEdits] = useState<Record<string, string>>({});
  const refresh = () =>
    callJson<RuleList>("/api/rules", { what: "Rules at run time" })
      .then((l) => {
        setList(l);
        setKind((k) => k || Object.keys(l.kinds)[0] || "");
      })
      .catch((e) => setError((e as Error).message));
  useEffect(() => void refresh(), []);
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setError(null);
      await refresh();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div id="rules" class="overlay" onClick={props.onClose}>
      <div class="overlay-box" onClick={(e) => e.stopPropagation()}>
        <h2>Rules</h2>
        {error ? <p class="error">{error}</p> : null}
        {list
          ? (
            <table class="rules">
              <tbody>
                {list.rules.map((r) => (
                  <tr class="rule" data-id={r.id} key={r.id}>
                    <th>{r.kind}</th>
                    <td>
                      <input
                        class="rule-spec"
                        value={edits[r.id] ?? r.spec}
                        onInput={(e) => setEdits({ ...edits, [r.id]: e.currentTarget.value })}
                      />
                    </td>
                    <td>
                      <button
                        type="button"
                        class="rule-save"
                        onClick={() =>
                          act(() =>
                            callJson(`/api/rules/${encodeURIComponent(r.id)}`, {
                              method: "PUT",
                              json: { spec: edits[r.id] ?? r.spec },
                            })
                          )}
                      >
                        Save
                      </button>
                      <button
                        type="button"
                        class="rule-remove"
                        onClick={() =>
                          act(() =>
                            callJson(`/api/rules/${encodeURIComponent(r.id)}`, {
                              method: "DELETE",
                            })
                          )}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
                <tr>
                  <th>
                    <select
                      id="rule-kind"
                      value={kind}
                      onChange={(e) => setKind(e.currentTarget.value)}
                    >
                      {Object.keys(list.kinds).map((k) => <option key={k} value={k}>{k}</option>)}
                    </select>
                  </th>
                  <td>
                    <input
                      id="rule-spec"
                      value={spec}
                      placeholder={list.kinds[kind] ?? ""}
                      onInput={(e) => setSpec(e.currentTarget.value)}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      id="rule-add"
                      onClick={() =>
                        act(async () => {
                          await callJson("/api/rules", { method: "POST", json: { kind, spec } });
                          setSpec("");
                        })}
                    >
                      Add
                    </button>
                  </td>
                </tr>
              </tbody>
            </table>
          )
          : null}
        <button type="button" onClick={props.onClose}>Close</button>
      </div>
    </div>
  );
}
