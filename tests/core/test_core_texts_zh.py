"""F18: core's texts for people are whole catalogue templates: English as before, Simplified
Chinese through core.i18n.translate, values (labels, counted nouns) translated with them and
user data (paths, emails, amounts) kept as they are."""

from __future__ import annotations

import pickle

import pytest

from core.errors import FormErrors, ValidationError
from core.i18n import translate


def _refusal(call, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    return info.value


# --- clean_line: one template per sentence, the label a translated value --------------------

def test_clean_line_refusals_read_as_before_in_english_and_whole_in_chinese():
    from core.validation import FULL_NAME, clean_line

    empty = _refusal(clean_line, "  ", "full-name", FULL_NAME)
    assert empty.message == "Enter your full name."
    assert translate(empty.message, "en") == "Enter your full name."
    assert translate(empty.message, "zh-Hans") == "请输入您的姓名。"

    control = _refusal(clean_line, "Alice\x07", "full-name", FULL_NAME)
    assert control.message == ("Your full name contains characters that cannot be used (line "
                               "breaks, control or invisible characters).")
    assert translate(control.message, "en") == control.message
    assert translate(control.message, "zh-Hans") == (
        "您的姓名包含不能使用的字符（换行符、控制字符或不可见字符）。")

    long = _refusal(clean_line, "x" * 11, "full-name", FULL_NAME, max_length=10)
    assert long.message == "Your full name is too long: at most 10 characters."
    assert translate(long.message, "en") == long.message
    assert translate(long.message, "zh-Hans") == "您的姓名过长：最多 10 个字符。"
    assert long.field == "full-name"


def test_a_plain_label_still_reads_right_in_english():
    """A caller outside core's labels (a plain str) keeps the capitalised English."""
    from core.validation import clean_line

    refusal = _refusal(clean_line, "a\nb", "x", "the nickname")
    assert refusal.message.startswith("The nickname contains characters")


def test_every_core_field_label_has_both_forms_in_the_catalogue():
    from core import validation
    from core.i18n import translation_for

    catalogue = translation_for("zh-Hans")
    labels = [value for value in vars(validation).values()
              if isinstance(value, validation.FieldLabel)]
    assert len(labels) >= 10
    for label in labels:
        assert label.opening == label[:1].upper() + label[1:]  # English as before
        for form in (str(label), label.opening):
            assert catalogue.gettext(form) != form, form


def test_billing_address_form_errors_translate_by_field(chinese):
    from core.billing_address import check_billing_address

    with pytest.raises(FormErrors) as info:
        check_billing_address(account_type="individual", full_name="", country="SG",
                              region="SG-01", city="", street="", postal_code="048616")
    errors = info.value.errors
    assert errors["full-name"] == "Enter your full name."  # English where it is not shown
    assert errors["city"] == "Enter the city."
    assert translate(errors["full-name"]) == "请输入您的姓名。"  # the console's language
    assert translate(errors["city"]) == "请输入城市。"
    assert translate(errors["street"]) == "请输入街道地址。"


# --- refusals with values ---------------------------------------------------------------------

def test_card_length_refusal_keeps_its_article_in_english_and_reads_in_chinese():
    from core.validation import check_card_number

    # A 16-digit number with an American Express prefix that passes Luhn.
    number = "3782822463100052"
    refusal = _refusal(check_card_number, number)
    assert refusal.message == "An American Express card number has 15 digits."
    assert translate(refusal.message, "zh-Hans") == "American Express 卡号为 15 位数字。"


def test_password_rules_and_strength_labels(chinese):
    from core.validation import check_password, password_strength

    short = _refusal(check_password, "short")
    assert short.message == "Use at least 12 characters."
    assert translate(short.message) == "请至少使用 12 个字符。"
    assert translate(password_strength("").label) == "非常弱"


def test_purchase_refusal_lists_the_steps_in_chinese(signed_up):
    from core.errors import Refused
    from core.products import place_order

    result, _ = signed_up
    with pytest.raises(Refused) as info:
        place_order(result.token, "ecs", "us-west-1", "payg")
    message = info.value.message
    assert message == ("Before you can buy in us-west-1: verify your account; add a billing "
                       "address; add a payment method.")
    assert translate(message, "zh-Hans") == (
        "在 us-west-1 购买前，请先：验证账号；添加账单地址；添加付款方式。")


def test_session_reasons_and_step_up_in_chinese():
    from core.config import settings
    from core.sessions import reason_message
    from core.step_up import StepUpRequired

    idle = reason_message("idle")
    minutes = settings().session_idle_minutes
    assert idle == (f"You were logged off after {minutes} minutes without activity. "
                    "Please log on again.")
    assert translate(idle, "zh-Hans") == (
        f"您已连续 {minutes} 分钟无操作，已自动退出登录。请重新登录。")
    assert translate(reason_message("logged_off"), "zh-Hans") == "您已退出登录。"

    asked = StepUpRequired("delete_account", "password")
    assert asked.message == "To delete your account, confirm it is you: enter your password."
    assert translate(asked.message, "zh-Hans") == "如需注销账号，请确认是您本人：输入密码。"


def test_throttle_wait_is_a_translated_counted_noun():
    from core.i18n import phrase
    from core.logon_throttle import LOG_ON_MESSAGE
    from core.wording import count

    message = phrase(LOG_ON_MESSAGE, wait=count(3, "minute"))
    assert message == "Too many failed log-ons. Try again in 3 minutes."
    assert "3 分钟" in translate(message, "zh-Hans")
    assert "{wait}" not in translate(message, "zh-Hans")


# --- values that are data ---------------------------------------------------------------------

def test_verbatim_values_are_never_looked_up():
    """User data that happens to equal a message id ("Approved") stays as typed."""
    from core.i18n import phrase
    from core.wording import verbatim

    message = phrase("Rejected: {reason}. Correct it and submit again.",
                     reason=verbatim("Approved"))
    assert message == "Rejected: Approved. Correct it and submit again."
    assert translate(message, "zh-Hans") == "已驳回：Approved。请修改后重新提交。"
    again = pickle.loads(pickle.dumps(message))
    assert again == message and translate(again, "zh-Hans") == translate(message, "zh-Hans")


def test_joined_lines_translate_each_line():
    from core.deletion import DeletionBlocked
    from core.i18n import N_
    from core.wording import joined

    assert joined([N_("Approved."), N_("Pay it (Billing).")]) == "Approved. Pay it (Billing)."
    assert translate(joined([N_("Approved."), N_("Pay it (Billing).")]), "zh-Hans") == (
        "已通过。 请支付（账单）。")
    blocked = DeletionBlocked([])
    assert blocked.message == "Your account cannot be deleted yet:"
    assert translate(blocked.message, "zh-Hans") == "您的账号暂时无法注销："


def test_money_in_a_message_follows_the_language():
    """Amounts inside core's messages are `core.i18n.money` values: English's `12.34 USD` as
    a str, the language's own form where translated."""
    from core.billing import PaymentFailed

    failed = PaymentFailed("Your card was declined.", (), 1234)
    assert failed.message == ("The payment did not go through: Your card was declined. "
                              "12.34 USD is still outstanding.")
    assert translate(failed.message, "zh-Hans") == (
        "付款未成功：您的银行卡被拒绝。仍有 US$12.34 待支付。")


# --- nothing the extractor skips ---------------------------------------------------------------

OTHERS = ("core/notices.py", "core/delivery/", "core/i18n.py", "core/translations.py",
          "core/languages.py", "core/pdf.py")


def test_no_f_string_in_core_is_skipped_by_the_extractor(capfd):
    from core.translations import extract_template

    capfd.readouterr()
    extract_template()
    captured = capfd.readouterr()
    skipped = [line for line in (captured.out + captured.err).splitlines()
               if "Skipping f-string" in line and "/core/" in line
               and not any(other in line for other in OTHERS)]
    assert skipped == []


def test_refusals_survive_pickling_with_their_values():
    """Refusals cross process boundaries (the zygote, multiprocessing) and stay translatable."""
    from core.validation import FULL_NAME, clean_line

    refusal = _refusal(clean_line, "", "full-name", FULL_NAME)
    again = pickle.loads(pickle.dumps(refusal.message))
    assert again == "Enter your full name."
    assert translate(again, "zh-Hans") == "请输入您的姓名。"
    assert pickle.loads(pickle.dumps(FULL_NAME)).opening == "Your full name"
