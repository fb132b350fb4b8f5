// The PromQL editor: CodeMirror 6 with Prometheus's PromQL language
// package, completing function names and, from our API, metric names,
// label names and label values.
import { useEffect, useRef } from 'preact/hooks';
import { EditorView, keymap, placeholder } from '@codemirror/view';
import { EditorState, Prec } from '@codemirror/state';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { autocompletion, closeBrackets, completionKeymap } from '@codemirror/autocomplete';
import { syntaxHighlighting, defaultHighlightStyle, bracketMatching } from '@codemirror/language';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';
import { apiBase } from './api';

interface Props {
  value: string;
  onChange: (v: string) => void;
  onRun: () => void;
}

export function Editor({ value, onChange, onRun }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const cb = useRef({ onChange, onRun });
  cb.current = { onChange, onRun };

  useEffect(() => {
    const promql = new PromQLExtension()
      .activateLinter(false)
      .setComplete({ remote: { url: apiBase(), httpMethod: 'GET' } });
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          history(),
          closeBrackets(),
          bracketMatching(),
          autocompletion(),
          syntaxHighlighting(defaultHighlightStyle),
          placeholder('Expression (press Shift+Enter for newlines)'),
          EditorView.lineWrapping,
          promql.asExtension(),
          Prec.highest(
            keymap.of([
              {
                key: 'Enter',
                run: () => {
                  cb.current.onRun();
                  return true;
                },
              },
            ]),
          ),
          keymap.of([...defaultKeymap, ...historyKeymap, ...completionKeymap]),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) cb.current.onChange(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
  }, []);

  // Follow outside changes (back button, a shared link).
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [value]);

  return <div class="editor" ref={host} />;
}
