/** @jsxImportSource preact */
/** The keyboard shortcuts, like mitmproxy's, and the help overlay that lists them (`?`). */

export const SHORTCUTS: [string, string][] = [
  ["j / ↓", "next flow"],
  ["k / ↑", "previous flow"],
  ["Enter", "show the flow's details"],
  ["Esc", "close details / this help"],
  ["/ or f", "edit the view filter"],
  ["i", "edit the intercept filter"],
  ["a", "resume the selected paused flow"],
  ["A", "resume all paused flows"],
  ["r", "replay the selected flows"],
  ["d", "delete the selected flows"],
  ["m", "mark or unmark the selected flows"],
  ["Ctrl/⌘-click, Shift-click", "select several"],
  ["Tab to a column header, Enter / Space", "sort by it (again: reverse, then arrival order)"],
  ["?", "this help"],
];

export function Help(props: { onClose(): void }) {
  return (
    <div id="help" class="overlay" onClick={props.onClose}>
      <div class="overlay-box" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard</h2>
        <table>
          <tbody>
            {SHORTCUTS.map(([k, what]) => (
              <tr>
                <th>
                  <kbd>{k}</kbd>
                </th>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" onClick={props.onClose}>Close</button>
      </div>
    </div>
  );
}
