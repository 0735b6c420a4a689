"""{% term terms "region" value %}: a register's stored word as the page's language shows it.

`terms` is the register's Terms for the page's language (Register.terms), or
None when the petition has no register: the word is then shown as typed.
"""

from django import template

from undersigned.registers.terms import Terms

register = template.Library()


@register.simple_tag
def term(terms: Terms | None, kind: str, value: str) -> str:
    if terms is None or not value:
        return value
    return terms.show(kind, value)
