"""The words the console's scripts get (chats/views.py, json_script): one placeholder syntax,
plural forms where a number decides the word, and the capacity refusal counted right."""

import re

import pytest
from django.utils import translation

from chats import duty, views
from chats.errors import ChatError

pytestmark = pytest.mark.django_db


def test_the_capacity_refusal_says_one_chat_in_the_singular(make_helper, settings, monkeypatch):
    """A peer (one chat at a time) was told "Sinulla on jo 1 keskustelua"."""
    settings.CHAT_MAX_CHATS_PEER = 1
    settings.CHAT_MAX_CHATS_PROFESSIONAL = 2
    monkeypatch.setattr(duty, "chats_held", lambda helper_id, offers=True: 2)  # all taken
    said = {}
    with translation.override("fi"):
        for helper in (make_helper(role="peer"), make_helper(role="professional")):
            with pytest.raises(ChatError) as refused:
                duty.refuse_at_capacity(helper)
            said[helper.role] = refused.value.message
    assert said["peer"].startswith("Sinulla on jo 1 keskustelu, ")
    assert said["professional"].startswith("Sinulla on jo 2 keskustelua, ")


def test_the_scripts_words_use_python_placeholders_and_plural_forms():
    with translation.override("fi"):
        words = views.console_strings() | views.workflow_strings() | views.moderation_strings()
    texts = [
        form
        for word in words.values()
        for form in (word.values() if isinstance(word, dict) else [word])
    ]
    assert not [text for text in texts if re.search(r"\{\w+\}", text)]
    assert words["queue"] == "Jonossa: %(n)s"
    assert set(words["days"]) == {"one", "other"}
