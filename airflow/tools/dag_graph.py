#!/usr/bin/env python3
"""Reads the Diabetes DAG files without Airflow: their task graph from the source (Python's ast), as JSON.

    dag_graph.py describe DAG_FILE
        The DAG's arguments, its tasks (operator, connection, method, endpoint, checks, timeouts) in dependency order,
        and every import of the file and of the local modules it imports, with the try/except guard around it.
    dag_graph.py call DAG_FILE FUNCTION STATUS [HEADER: VALUE ...] < BODY
        Runs a function of the DAG file (a response_check) or a task's response_filter ("TASK_ID.response_filter")
        on an HTTP answer, as Airflow would, and prints {"outcome": "returned"|"skipped"|"failed", "value", "message"}.
    dag_graph.py run DAG_FILE TASK_ID < XCOMS
        Runs a ShortCircuitOperator's python_callable with a task instance whose xcom_pull answers from XCOMS
        ({"task_id": value}), as Airflow would, and prints {"outcome", "value", "message", "log"} (what it printed).

The test suite checks the first output against the services' contract and replays the calls in that order against
the real services (tests/Diabetes.AppHost.Tests), handing each answer to the DAG's own functions through the second.
Only the standard library is used: it runs where Airflow is not installed.
"""
import ast
import contextlib
import io
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

OPERATORS = {"HttpOperator", "HttpSensor", "ShortCircuitOperator", "TriggerDagRunOperator"}

# The arguments the replay knows how to honour. Anything else (a trigger rule, op_kwargs, a wait for the triggered
# run...) would make the replay differ from Airflow, so describe refuses it rather than ignore it.
ARGUMENTS = {
    "HttpOperator": {"task_id", "http_conn_id", "endpoint", "method", "data", "headers", "extra_options", "response_check",
                     "response_filter", "log_response", "execution_timeout"},
    "HttpSensor": {"task_id", "http_conn_id", "endpoint", "method", "response_check", "extra_options", "mode",
                   "poke_interval", "timeout", "execution_timeout"},
    "ShortCircuitOperator": {"task_id", "python_callable", "execution_timeout"},
    "TriggerDagRunOperator": {"task_id", "trigger_dag_id", "conf", "execution_timeout"},
}


class Callable:
    """A function or lambda given to an operator, kept by name (or source) rather than run."""

    def __init__(self, name):
        self.name = name


class EnvSchedule:
    """schedule_from_env(variable, default), kept as the variable and its default."""

    def __init__(self, variable, default):
        self.variable, self.default = variable, default


def to_json(value):
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Callable):
        return value.name
    if isinstance(value, EnvSchedule):
        return {"env": value.variable, "default": value.default}
    raise TypeError(f"cannot describe {value!r}")


def evaluate(node, source, namespace):
    """The value of an argument, from literals, timedelta/datetime, module constants and local callables only."""
    if isinstance(node, ast.Lambda):
        return Callable(ast.get_source_segment(source, node))
    code = compile(ast.Expression(node), "<dag argument>", "eval")
    return eval(code, {"__builtins__": {}}, namespace)  # noqa: S307 - our own DAG files, names limited to namespace


def base_namespace():
    return {
        "timedelta": timedelta, "datetime": datetime, "timezone": timezone,
        "schedule_from_env": EnvSchedule, "True": True, "False": False, "None": None,
    }


def guard_of(parents):
    """("try" or "except ImportError", line of the try statement) when the import sits in such a block, else (None, None)."""
    for (parent, field), (child, _) in zip(reversed(parents), reversed(parents[1:] + [(None, None)])):
        if isinstance(parent, ast.Try):
            if field == "body":
                return "try", parent.lineno
            if field == "handlers" and catches_import_error(child):
                return "except ImportError", parent.lineno
            return None, None
    return None, None


def catches_import_error(handler):
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(getattr(c, "id", None) in ("ImportError", "ModuleNotFoundError") for c in caught)


def imports_of(tree, file_name):
    found = []

    def visit(node, parents):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            for alias in node.names:
                guard, try_line = guard_of(parents)
                found.append({
                    "file": file_name,
                    "line": node.lineno,
                    "module": module if module is not None else alias.name,
                    "name": alias.name if module is not None else None,
                    "guard": guard,
                    "try_line": try_line,
                })
        for field, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            for child in children:
                if isinstance(child, ast.AST):
                    visit(child, parents + [(node, field)])

    visit(tree, [])
    return found


def local_module(dag_file, module):
    path = dag_file.parent / f"{module}.py"
    return path if path.exists() else None


def module_constants(path, namespace):
    """Top-level NAME = value assignments and function names of a module, evaluated in order."""
    source = path.read_text()
    tree = ast.parse(source, filename=str(path))
    values = {"__doc__": ast.get_docstring(tree)}
    scope = {**namespace}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            values[node.name] = scope[node.name] = Callable(node.name) if node.name != "schedule_from_env" else EnvSchedule
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            try:
                value = evaluate(node.value, source, scope)
            except Exception:  # noqa: BLE001 - a value this reader cannot evaluate is simply not known to it
                continue
            for target in node.targets:
                values[target.id] = scope[target.id] = value
    return values


def chain_edges(node, edges):
    """The edges of `a >> b >> c` (and of lists on either side); returns the task names on the right end."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.RShift, ast.LShift)):
        left = chain_edges(node.left, edges)
        right = chain_edges(node.right, edges)
        upstream, downstream = (left, right) if isinstance(node.op, ast.RShift) else (right, left)
        edges.extend((u, d) for u in upstream for d in downstream)
        return right
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [element.id for element in node.elts]
    raise ValueError(f"line {node.lineno}: unsupported dependency expression")


def describe(dag_file):
    source = dag_file.read_text()
    tree = ast.parse(source, filename=str(dag_file))
    namespace = base_namespace()
    imports = imports_of(tree, dag_file.name)
    names = names_of(tree)
    for entry in list(imports):
        path = local_module(dag_file, entry["module"])
        if path is not None:
            if not any(i["file"] == path.name for i in imports):
                module_tree = ast.parse(path.read_text())
                imports.extend(imports_of(module_tree, path.name))
                names |= names_of(module_tree)
            constants = module_constants(path, base_namespace())
            if entry["name"] in constants:
                namespace[entry["name"]] = constants[entry["name"]]
    namespace.update(module_constants(dag_file, namespace))

    with_dag = [n for n in tree.body if isinstance(n, ast.With)
                and isinstance(n.items[0].context_expr, ast.Call) and getattr(n.items[0].context_expr.func, "id", None) == "DAG"]
    if len(with_dag) != 1:
        raise ValueError(f"{dag_file.name}: expected one `with DAG(...)` block, found {len(with_dag)}")
    block = with_dag[0]
    check_nothing_outside(tree, block, dag_file.name)
    dag_call = block.items[0].context_expr
    dag = {k.arg: to_json_tree(evaluate(k.value, source, namespace)) for k in dag_call.keywords}

    tasks, variables, edges = {}, {}, []
    for statement in block.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
            operator = getattr(statement.value.func, "id", None)
            if operator not in OPERATORS:
                raise ValueError(f"line {statement.lineno}: {operator} is not one of {sorted(OPERATORS)}")
            arguments = task_arguments(statement.value, source, namespace)
            unknown = [name for name in arguments if name not in ARGUMENTS[operator]]
            if statement.value.args or unknown:
                raise ValueError(f"line {statement.lineno}: the replay does not honour {unknown or 'positional arguments'} of {operator}")
            task_id = arguments["task_id"]
            tasks[task_id] = {"operator": operator, "line": statement.lineno, **arguments, "upstream": []}
            variables[statement.targets[0].id] = task_id
        elif isinstance(statement, ast.Expr):
            chain_edges(statement.value, edges)
        else:
            raise ValueError(f"line {statement.lineno}: a DAG block holds only task assignments and dependencies")

    for upstream, downstream in edges:
        tasks[variables[downstream]]["upstream"].append(variables[upstream])
    return {
        "file": dag_file.name,
        "dag": dag,
        "tasks": [{"task_id": t, **tasks[t]} for t in dependency_order(tasks)],
        "imports": imports,
        "names": sorted(names),
    }


def task_arguments(call, source, namespace):
    """The keyword arguments of a task, those of a `**` dict of the module's constants included."""
    arguments = {}
    for keyword in call.keywords:
        value = to_json_tree(evaluate(keyword.value, source, namespace))
        if keyword.arg is not None:
            arguments[keyword.arg] = value
        elif isinstance(value, dict):
            arguments.update(value)
        else:
            raise ValueError(f"line {call.lineno}: ** of something that is not a dict")
    return arguments


def names_of(tree):
    """Every name and keyword the source uses, for the check of names that exist in one Airflow major only."""
    return ({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
            | {k.arg for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords if k.arg})


def check_nothing_outside(tree, block, file_name):
    """Tasks and dependencies live in the DAG block only: the replay reads nothing else."""
    after = tree.body[tree.body.index(block) + 1:]
    if after:
        raise ValueError(f"{file_name}: line {after[0].lineno}: nothing may follow the `with DAG(...)` block")
    for statement in tree.body[:tree.body.index(block)]:
        if not isinstance(statement, (ast.Expr, ast.Import, ast.ImportFrom, ast.FunctionDef, ast.Assign)):
            raise ValueError(f"{file_name}: line {statement.lineno}: only imports, functions and constants may precede the DAG block")
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in OPERATORS:
                raise ValueError(f"{file_name}: line {node.lineno}: a task outside the DAG block")


def to_json_tree(value):
    return json.loads(json.dumps(value, default=to_json))


def dependency_order(tasks):
    """Kahn's algorithm, ties broken by the order of the file, so the output is stable."""
    ordered, done = [], set()
    remaining = sorted(tasks, key=lambda t: tasks[t]["line"])
    while remaining:
        ready = [t for t in remaining if all(u in done for u in tasks[t]["upstream"])]
        if not ready:
            raise ValueError(f"dependency cycle among {remaining}")
        ordered.append(ready[0])
        done.add(ready[0])
        remaining.remove(ready[0])
    return ordered


class Headers(dict):
    """Response headers, found whatever their case, as in requests."""

    def __init__(self, lines):
        super().__init__((name.strip().lower(), value.strip()) for name, value in (line.split(":", 1) for line in lines))

    def __contains__(self, name):
        return super().__contains__(name.lower())

    def __getitem__(self, name):
        return super().__getitem__(name.lower())

    def get(self, name, default=None):
        return super().get(name.lower(), default)


class Response:
    """The part of requests.Response the DAG functions read."""

    def __init__(self, status, body, header_lines=()):
        self.status_code, self.text, self.headers = status, body, Headers(header_lines)
        self.ok = status < 400

    def json(self):
        return json.loads(self.text)


class TaskInstance:
    """The part of a task instance the DAG functions use: xcom_pull of one task's value."""

    def __init__(self, xcoms):
        self.xcoms = xcoms

    def xcom_pull(self, task_ids):
        return self.xcoms.get(task_ids)


class AirflowSkipException(Exception):
    pass


class AirflowFailException(Exception):
    pass


def functions_of(dag_file):
    """The DAG file's top-level functions, defined in a scope with Airflow's exceptions (the rest of the file, Airflow's
    imports included, is not run)."""
    scope = {"AirflowSkipException": AirflowSkipException, "AirflowFailException": AirflowFailException}
    definitions = [n for n in ast.parse(dag_file.read_text()).body if isinstance(n, ast.FunctionDef)]
    exec(compile(ast.Module(definitions, []), str(dag_file), "exec"), scope)  # noqa: S102 - our own DAG file
    return scope


def task_function(dag_file, task_id, argument, scope):
    """The function given as `argument` to the task: one of the file's functions by name, or a lambda from its source."""
    text = next(t for t in describe(dag_file)["tasks"] if t["task_id"] == task_id)[argument]
    return scope[text] if text.isidentifier() else eval(text, scope)  # noqa: S307 - our own DAG file


def outcome_of(target, *arguments, **keywords):
    """Runs target as Airflow would run it in a task: a skip or a failure is the outcome, and what it printed is kept."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            result = {"outcome": "returned", "value": target(*arguments, **keywords)}
    except AirflowSkipException as skip:
        result = {"outcome": "skipped", "message": str(skip)}
    except AirflowFailException as failure:
        result = {"outcome": "failed", "message": str(failure)}
    return {**result, "log": printed.getvalue()}


def call(dag_file, function, status, body, header_lines):
    scope = functions_of(dag_file)
    target = (task_function(dag_file, function.removesuffix(".response_filter"), "response_filter", scope)
              if function.endswith(".response_filter") else scope[function])
    return outcome_of(target, Response(status, body, header_lines))


def run(dag_file, task_id, xcoms):
    # Airflow passes the context entries a callable names by keyword; these DAGs' callables name only ti.
    return outcome_of(task_function(dag_file, task_id, "python_callable", functions_of(dag_file)), ti=TaskInstance(xcoms))


def main(argv):
    if len(argv) == 3 and argv[1] == "describe":
        print(json.dumps(describe(Path(argv[2])), indent=2))
    elif len(argv) >= 5 and argv[1] == "call":
        print(json.dumps(call(Path(argv[2]), argv[3], int(argv[4]), sys.stdin.read(), argv[5:])))
    elif len(argv) == 4 and argv[1] == "run":
        print(json.dumps(run(Path(argv[2]), argv[3], json.loads(sys.stdin.read()))))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
