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
import { traceql } from './traceql';
import { logql } from './logql';

/// Replaces the editor's text from outside (a history entry, the back
/// button).
export interface EditorHandle {
  set(text: string): void;
}

interface Props {
  /// The text the editor starts with. Later changes come through `handle`:
  /// the editor owns its text, because Preact runs effects after paint and
  /// a text prop synced back from the parent can be older than what was
  /// typed since (syncing it froze the page: the old and new text replaced
  /// each other forever).
  initial: string;
  onChange: (v: string) => void;
  onRun: () => void;
  handle?: (h: EditorHandle) => void;
  /// The query language: PromQL (default), LogQL or TraceQL.
  language?: 'promql' | 'logql' | 'traceql';
  placeholder?: string;
}

export function Editor({ initial, onChange, onRun, handle, language = 'promql', placeholder: hint }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const cb = useRef({ onChange, onRun });
  cb.current = { onChange, onRun };

  useEffect(() => {
    const lang =
      language === 'logql'
        ? logql()
        : language === 'traceql'
          ? traceql()
          : new PromQLExtension()
            .activateLinter(false)
            .setComplete({ remote: { url: apiBase(), httpMethod: 'GET' } })
            .asExtension();
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: initial,
        extensions: [
          history(),
          closeBrackets(),
          bracketMatching(),
          autocompletion(),
          syntaxHighlighting(defaultHighlightStyle),
          placeholder(hint ?? 'Expression (press Shift+Enter for newlines)'),
          EditorView.lineWrapping,
          lang,
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
    handle?.({
      set(text: string) {
        if (v.state.doc.toString() !== text) {
          v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
        }
      },
    });
    return () => v.destroy();
  }, []);

  return <div class="editor" ref={host} />;
}
