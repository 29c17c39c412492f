"""Read a SAM/CloudFormation template (YAML short-form tags included), order its resources and resolve intrinsics.

Only what the local cloud needs: Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If, Fn::Equals, Fn::Not,
Fn::And, Fn::Or, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Base64 and pseudo parameters. Physical names and
ARNs come from a lookup the caller fills as it creates resources, so `!Ref`/`!GetAtt` give the local values;
`creation_order` makes sure every resource is created after the ones it refers to, as CloudFormation does.
"""

from __future__ import annotations

import base64
import heapq
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import yaml

_SHORT_TAGS = {
    "Ref": "Ref",
    "GetAtt": "Fn::GetAtt",
    "Sub": "Fn::Sub",
    "Join": "Fn::Join",
    "If": "Fn::If",
    "Equals": "Fn::Equals",
    "Not": "Fn::Not",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "FindInMap": "Fn::FindInMap",
    "Base64": "Fn::Base64",
    "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue",
    "Condition": "Condition",
}


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that turns `!Tag value` into the long form `{"Fn::Tag": value}`."""


def _make_constructor(long_name: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if long_name == "Fn::GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {long_name: value}

    return construct


for _short, _long in _SHORT_TAGS.items():
    _TemplateLoader.add_constructor(f"!{_short}", _make_constructor(_long))


def load_document(path: Path) -> Any:
    """A YAML or JSON file in which CloudFormation's short-form tags (`!Ref`, `!Sub`, ...) may appear."""
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass


def load_template(path: Path) -> dict[str, Any]:
    data = load_document(path)
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation template (no Resources)")
    return data


_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")  # ${Name} or ${Name.Attribute}; ${!Literal} is text


class TemplateCycleError(ValueError):
    """Resources that depend on each other: CloudFormation refuses the template, so the local cloud does too."""

    def __init__(self, resources: list[str]) -> None:
        self.resources = resources
        super().__init__(f"Circular dependency between resources: [{', '.join(resources)}]")


def references(value: Any) -> set[str]:
    """The names `value` refers to through Ref, Fn::GetAtt and Fn::Sub: resources, parameters and pseudo parameters.

    Both branches of Fn::If count: CloudFormation checks dependencies statically, whatever the conditions say.
    """
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref" and isinstance(arg, str):
                return {arg}
            if key == "Fn::GetAtt":
                logical = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
                return {logical} | references(arg[1:] if isinstance(arg, list) else [])
            if key == "Fn::Sub":
                return _sub_references(arg)
        for item in value.values():
            found |= references(item)
    return found


def _sub_references(arg: Any) -> set[str]:
    text, variables = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
    found = references(variables)
    if isinstance(text, str):
        for name in _SUB_VAR.findall(text):
            if name not in variables:
                found.add(name if name.startswith("AWS::") else name.split(".", 1)[0])
    else:
        found |= references(text)
    return found


def dependencies(template: Mapping[str, Any]) -> dict[str, set[str]]:
    """Logical id -> the resources it needs first (Ref, Fn::GetAtt, Fn::Sub, DependsOn), in template order.

    A name that is neither a resource, a parameter nor a pseudo parameter is refused as CloudFormation refuses it.
    """
    resources: Mapping[str, Any] = template["Resources"]
    parameters = set(template.get("Parameters") or {})
    graph: dict[str, set[str]] = {}
    unresolved: set[str] = set()
    for logical, resource in resources.items():
        depends_on = resource.get("DependsOn") or []
        named = references(resource.get("Properties") or {}) | set(
            [depends_on] if isinstance(depends_on, str) else depends_on)
        needed = {name for name in named if not name.startswith("AWS::") and name not in parameters}
        unresolved |= needed - set(resources)
        graph[logical] = needed & set(resources)
    if unresolved:
        raise ValueError(f"Template format error: Unresolved resource dependencies [{', '.join(sorted(unresolved))}] "
                         "in the Resources block of the template")
    return graph


def creation_order(graph: Mapping[str, Collection[str]]) -> list[str]:
    """The resources of `graph` (logical id -> what it needs first), each after what it needs; among the resources
    ready at a step, the first in template order (the graph's order) comes first, so the order is stable."""
    names = list(graph)
    position = {name: index for index, name in enumerate(names)}
    waiting = {name: set(needs) for name, needs in graph.items()}
    needed_by: dict[str, list[str]] = {name: [] for name in names}
    for name, needs in waiting.items():
        for need in needs:
            needed_by[need].append(name)
    ready = [position[name] for name, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for dependent in needed_by[name]:
            waiting[dependent].discard(name)
            if not waiting[dependent]:
                heapq.heappush(ready, position[dependent])
    if len(order) < len(names):
        stuck = {name: needs for name, needs in waiting.items() if needs}
        raise TemplateCycleError(sorted(name for name in stuck if _reaches(stuck, name, name)))
    return order


def _reaches(graph: Mapping[str, Collection[str]], start: str, target: str) -> bool:
    """Whether following `graph`'s edges from `start` leads back to `target` (so `target` is in a loop)."""
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        name = todo.pop()
        if name == target:
            return True
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    return False


class NoValue:
    """AWS::NoValue: the property is removed."""


NO_VALUE = NoValue()



class Resolver:
    """Resolves intrinsic functions against parameters, pseudo parameters and created resources."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str],
        pseudo: Mapping[str, str],
        ref: Callable[[str], str],
        get_att: Callable[[str, str], str],
    ) -> None:
        self.template = template
        self.pseudo = dict(pseudo)
        self._ref = ref
        self._get_att = get_att
        self.parameters: dict[str, str] = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if name in parameters:
                self.parameters[name] = str(parameters[name])
            elif "Default" in spec:
                self.parameters[name] = str(spec["Default"])
            else:
                raise ValueError(f"template parameter {name} has no default and no override")
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            spec = (self.template.get("Conditions") or {}).get(name)
            if spec is None:
                raise ValueError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(spec))
        return self._conditions[name]

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self._ref(name)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            handler = _FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, arg)
        out = {}
        for key, item in value.items():
            resolved = self.resolve(item)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return str(self._get_att(logical, attribute))
            return str(self.ref(name))

        return _SUB_VAR.sub(replace, text).replace("${!", "${")


def _join(resolver: Resolver, arg: Any) -> str:
    separator, items = arg
    return str(separator).join(str(item) for item in resolver.resolve(items))


def _if(resolver: Resolver, arg: Any) -> Any:
    name, when_true, when_false = arg
    return resolver.resolve(when_true if resolver.condition(name) else when_false)


def _find_in_map(resolver: Resolver, arg: Any) -> Any:
    name, top, second = (resolver.resolve(item) for item in arg)
    mapping = (resolver.template.get("Mappings") or {}).get(name)
    if mapping is None or top not in mapping or second not in mapping[top]:
        raise ValueError(f"Fn::FindInMap [{name}, {top}, {second}]: no such mapping entry")
    return mapping[top][second]


def _get_att(resolver: Resolver, arg: Any) -> Any:
    logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
    return resolver._get_att(logical, resolver.resolve(attribute))


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::GetAtt": _get_att,
    "Fn::Sub": lambda r, a: r.sub(a),
    "Fn::Join": _join,
    "Fn::If": _if,
    "Fn::Equals": lambda r, a: str(r.resolve(a[0])) == str(r.resolve(a[1])),
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(x) for x in a),
    "Fn::Or": lambda r, a: any(r.resolve(x) for x in a),
    "Fn::Select": lambda r, a: r.resolve(a[1])[int(r.resolve(a[0]))],
    "Fn::Split": lambda r, a: str(r.resolve(a[1])).split(a[0]),
    "Fn::FindInMap": _find_in_map,
    "Fn::Base64": lambda r, a: base64.b64encode(str(r.resolve(a)).encode()).decode(),
    "Condition": lambda r, a: r.condition(a),
}
