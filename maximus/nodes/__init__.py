"""The agent's nodes, one per module, and the routers between them."""

from maximus.nodes.approve import make_approve_node, parse_decision
from maximus.nodes.execute import make_execute_node
from maximus.nodes.plan import make_plan_node
from maximus.nodes.reflect import make_reflect_node
from maximus.nodes.respond import make_respond_node
from maximus.nodes.routing import after_approve, after_plan, after_reflect, after_simulate
from maximus.nodes.simulate import make_simulate_node

__all__ = [
    "after_approve",
    "after_plan",
    "after_reflect",
    "after_simulate",
    "make_approve_node",
    "make_execute_node",
    "make_plan_node",
    "make_reflect_node",
    "make_respond_node",
    "make_simulate_node",
    "parse_decision",
]
