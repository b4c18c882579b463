/**
 * Reads Keycloak's login, consent and error pages the way a browser would: with a spec-compliant HTML
 * parser (parse5, the WHATWG tree builder jsdom uses), not regular expressions, so attribute order,
 * quoting, entities and theme changes between Keycloak versions do not break the headless user.
 */
import { parse, type DefaultTreeAdapterTypes } from 'parse5';

type Node = DefaultTreeAdapterTypes.ChildNode | DefaultTreeAdapterTypes.Document;
type Element = DefaultTreeAdapterTypes.Element;

/** A form as a browser would submit it: successful controls only, plus its submit buttons. */
export interface HtmlForm {
  id?: string;
  /** Absolute URL the form posts to. */
  action: string;
  method: string;
  /** Named controls with their current values (hidden inputs, text inputs, checked boxes). */
  fields: Map<string, string>;
  /** Submit buttons by name, e.g. `accept` and `cancel` on the consent page. */
  submits: Map<string, string>;
}

export interface HtmlPage {
  title: string;
  forms: HtmlForm[];
  /** Messages the page shows the user (wrong password, expired code, error page text), trimmed. */
  messages: string[];
}

function attr(element: Element, name: string): string | undefined {
  return element.attrs.find((a) => a.name === name)?.value;
}

function isElement(node: Node): node is Element {
  return 'tagName' in node;
}

function* walk(node: Node): Generator<Element> {
  if (isElement(node)) yield node;
  const children = 'childNodes' in node ? node.childNodes : [];
  for (const child of children) yield* walk(child);
  // <template> content lives outside childNodes in the WHATWG tree.
  if (isElement(node) && node.tagName === 'template' && 'content' in node) yield* walk(node.content as unknown as Node);
}

function text(node: Node): string {
  if (node.nodeName === '#text') return (node as DefaultTreeAdapterTypes.TextNode).value;
  const children = 'childNodes' in node ? node.childNodes : [];
  return children.map((child) => text(child)).join('');
}

function squash(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

function readForm(form: Element, pageUrl: string): HtmlForm {
  const fields = new Map<string, string>();
  const submits = new Map<string, string>();
  for (const control of walk(form)) {
    const name = attr(control, 'name');
    if (!name || attr(control, 'disabled') !== undefined) continue;
    const type = (attr(control, 'type') ?? (control.tagName === 'button' ? 'submit' : 'text')).toLowerCase();
    if (control.tagName === 'input') {
      if (type === 'submit' || type === 'image') submits.set(name, attr(control, 'value') ?? '');
      else if ((type === 'checkbox' || type === 'radio') && attr(control, 'checked') === undefined) continue;
      else fields.set(name, attr(control, 'value') ?? '');
    } else if (control.tagName === 'button' && type === 'submit') {
      submits.set(name, attr(control, 'value') ?? '');
    } else if (control.tagName === 'textarea') {
      fields.set(name, text(control));
    }
  }
  const id = attr(form, 'id');
  const action = new URL(attr(form, 'action') ?? pageUrl, pageUrl).href;
  const method = (attr(form, 'method') ?? 'get').toLowerCase();
  return id ? { id, action, method, fields, submits } : { action, method, fields, submits };
}

/**
 * Where Keycloak's themes put text for the user: the v2 (PatternFly 5) and v1 login themes' field
 * errors and alerts, and the error page's message.
 */
function isMessage(element: Element): boolean {
  const id = attr(element, 'id') ?? '';
  const cls = ` ${attr(element, 'class') ?? ''} `;
  return (
    id.startsWith('input-error') ||
    id === 'kc-error-message' ||
    cls.includes(' kc-feedback-text ') ||
    cls.includes(' pf-v5-c-alert__title ') ||
    cls.includes(' alert-error ') ||
    (cls.includes(' instruction ') && element.tagName === 'p')
  );
}

/** Parses one HTML response; `pageUrl` resolves relative form actions. */
export function readPage(html: string, pageUrl: string): HtmlPage {
  const document = parse(html);
  const forms: HtmlForm[] = [];
  const messages: string[] = [];
  let title = '';
  for (const element of walk(document)) {
    if (element.tagName === 'form') forms.push(readForm(element, pageUrl));
    else if (element.tagName === 'title' && !title) title = squash(text(element));
    if (isMessage(element)) {
      const message = squash(text(element));
      if (message && !messages.some((m) => m.includes(message))) messages.push(message);
    }
  }
  return { title, forms, messages };
}
