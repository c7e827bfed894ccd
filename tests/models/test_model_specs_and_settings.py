"""Settings and model resolution: specs, roles, base URLs, and clear config errors."""

from __future__ import annotations

import pytest
from langchain_openai import ChatOpenAI

from maximus import ConfigError, ModelResolver, Settings, create_agent, load_settings
from maximus.testing import scripted


def test_no_model_configured_is_a_config_error_naming_the_settings() -> None:
    resolver = ModelResolver(settings=Settings())
    with pytest.raises(ConfigError) as caught:
        resolver.get("planner")
    for setting in ("GOOGLE_API_KEY", "MAXIMUS_MODEL", "MAXIMUS_BASE_URL", "MAXIMUS_MODELS__"):
        assert setting in str(caught.value)


def test_building_an_agent_needs_no_model() -> None:
    graph = create_agent(settings=Settings())
    assert {"plan", "simulate", "execute", "reflect", "respond"} <= set(graph.get_graph().nodes)


def test_google_key_selects_gemini_flash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-test")
    model = ModelResolver(settings=load_settings()).get("planner")
    assert model._llm_type == "chat-google-generative-ai"
    assert str(model.model).endswith("gemini-2.5-flash")  # type: ignore[attr-defined]


def test_base_url_reaches_an_openai_compatible_server() -> None:
    settings = Settings(model="qwen2.5", base_url="http://127.0.0.1:8081/v1")
    model = ModelResolver(settings=settings).get("executor")
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "qwen2.5" and model.openai_api_base == "http://127.0.0.1:8081/v1"


def test_roles_fall_back_to_the_main_model_and_share_one_client() -> None:
    settings = Settings(
        model="qwen",
        base_url="http://127.0.0.1:1/v1",
        models={"critic": "openai:judge"},  # type: ignore[arg-type]
    )
    resolver = ModelResolver(settings=settings)
    assert resolver.get("planner") is resolver.get("policy")
    critic = resolver.get("critic")
    assert isinstance(critic, ChatOpenAI) and critic.model_name == "judge"


def test_instances_override_specs_per_role() -> None:
    main, critic = scripted([]), scripted([])
    resolver = ModelResolver(main, {"critic": critic}, settings=Settings())
    assert resolver.get("planner") is main and resolver.get("critic") is critic


def test_unknown_roles_and_providers_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown model roles"):
        ModelResolver(models={"judge": "x:y"}, settings=Settings())  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="cannot build chat model"):
        ModelResolver(settings=Settings(model="nosuchprovider:model")).get("planner")


def test_placeholder_secrets_and_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "changethis")
    with pytest.raises(ConfigError, match="placeholder"):
        load_settings()
    monkeypatch.delenv("GOOGLE_API_KEY")
    monkeypatch.setenv("MAXIMUS_AGENT__RISK_THRESHOLD", "1.5")
    with pytest.raises(ConfigError, match="MAXIMUS_AGENT__RISK_THRESHOLD"):
        load_settings()


def test_nested_settings_come_from_env_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("MAXIMUS_AGENT__NUM_CANDIDATES", "5")
    with open(".env", "w") as env_file:  # the test runs in its own tmp dir
        env_file.write("MAXIMUS_MODE=deep\nMAXIMUS_MODELS__CRITIC=openai:judge\n")
    settings = load_settings()
    assert settings.agent.num_candidates == 5
    assert settings.mode == "deep" and settings.models.critic == "openai:judge"
