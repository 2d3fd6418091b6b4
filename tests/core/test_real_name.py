"""F6 Real-name registration: ID checks, the identity sandbox, enterprise licences, operator
review (`cloudacct review`), and BAD_INPUTS "Real-name registration"."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from tests.conftest import START
from tests.core.conftest import rows

PUBLISHED_RESIDENT_ID = "11010519491231002X"
CREDIT_CODE = "91350100M000100Y43"  # commonly cited valid example
CREDIT_CODE_2 = "911100007109288314"
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32

WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2, written here independently of core."""
    remainder = (12 - sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11) % 11
    return "X" if remainder == 10 else str(remainder)


def resident_id(birth: str = "19900307", area: str = "330106", seq: str = "123") -> str:
    body = area + birth + seq
    return body + check_digit(body)


def resident_id_ending(parity: str, birth: str = "19900307") -> str:
    """A valid resident ID whose last character is even/X ('approve') or odd ('reject')."""
    for n in range(1000):
        number = resident_id(birth=birth, seq=f"{n:03d}")
        last = number[-1]
        approved = last == "X" or int(last) % 2 == 0
        if approved == (parity == "approve"):
            return number
    raise AssertionError("no such number")


@pytest.fixture
def token(active):
    return active[0]


def licence(tmp_path, content: bytes = PDF, name: str = "licence.pdf"):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def uploads() -> list:
    from core.config import settings

    folder = settings().uploads_dir
    return sorted(folder.iterdir()) if folder.exists() else []


# --- resident ID -------------------------------------------------------------------------------

def test_check_digit_matches_published_example_and_independent_computation():
    from core.real_name import check_resident_id, resident_id_check_digit

    assert resident_id_check_digit(PUBLISHED_RESIDENT_ID[:17]) == "X"
    assert check_resident_id(PUBLISHED_RESIDENT_ID) == PUBLISHED_RESIDENT_ID
    assert check_resident_id(PUBLISHED_RESIDENT_ID.lower()) == PUBLISHED_RESIDENT_ID
    assert check_resident_id(" 110105 19491231 002x ") == PUBLISHED_RESIDENT_ID
    for seq in range(0, 1000, 37):
        number = resident_id(seq=f"{seq:03d}")
        assert resident_id_check_digit(number[:17]) == number[-1]
        assert check_resident_id(number) == number


@pytest.mark.parametrize("text,hint", [
    ("11010519491231002Y", "18 characters"),
    ("110105194912310021", "check digit"),  # wrong check digit
    ("1101051949123100X2", "18 characters"),  # X only last
    ("11010519491231002", "18 characters"),
    ("11010519491231002XX", "18 characters"),
    ("", "Enter"),
    ("   ", "Enter"),
    ("１１０１０５１９４９１２３１００２Ｘ", "18 characters"),  # full-width digits
])
def test_resident_id_refusals(text, hint):
    from core.errors import ValidationError
    from core.real_name import check_resident_id

    with pytest.raises(ValidationError) as info:
        check_resident_id(text)
    assert hint in info.value.message
    assert info.value.field == "rn-id-number"


@pytest.mark.parametrize("birth", ["19990230", "19991301", "19990000", "18991231", "20261202",
                                   "20991231"])
def test_resident_id_impossible_birth_dates(birth):
    """Feb 30, month 13, zeros, before 1900, and after today (the clock is 2026-12-01)."""
    from core.errors import ValidationError
    from core.real_name import check_resident_id

    with pytest.raises(ValidationError) as info:
        check_resident_id(resident_id(birth=birth))  # the check digit itself is right
    assert "birth date" in info.value.message


def test_resident_id_born_today_and_in_1900_are_fine():
    from core.real_name import check_resident_id

    assert check_resident_id(resident_id(birth="20261201"))
    assert check_resident_id(resident_id(birth="19000101"))
    assert check_resident_id(resident_id(birth="20000229"))  # a leap day


@pytest.mark.parametrize("id_type,good,bad", [
    ("passport", ["E12345678", "G1234567", "AB123", "e1234567"], ["AB12", "E123456789",
                                                                  "E1234-567!", "ПАСПОРТ1"]),
    ("hk_macao_permit", ["H12345678", "M12345678", "H1234567890", "h12345678"],
     ["C12345678", "H1234567", "H123456789", "12345678"]),
    ("taiwan_permit", ["12345678", "1234567890"], ["1234567", "123456789", "T1234567"]),
])
def test_passport_and_permit_formats(id_type, good, bad):
    from core.errors import ValidationError
    from core.real_name import check_id_number

    for number in good:
        assert check_id_number(id_type, number) == number.upper()
    for number in bad:
        with pytest.raises(ValidationError):
            check_id_number(id_type, number)


@pytest.mark.parametrize("id_type", ["", None, "driving_licence", "Passport"])
def test_unknown_id_type(id_type):
    from core.errors import ValidationError
    from core.real_name import check_id_number

    with pytest.raises(ValidationError) as info:
        check_id_number(id_type, "E12345678")
    assert info.value.field == "rn-id-type"


# --- unified social credit code ---------------------------------------------------------------

def test_credit_code_examples():
    from core.real_name import check_credit_code, credit_code_check_char

    assert check_credit_code(CREDIT_CODE) == CREDIT_CODE
    assert check_credit_code(CREDIT_CODE_2) == CREDIT_CODE_2
    assert check_credit_code(CREDIT_CODE.lower()) == CREDIT_CODE
    assert credit_code_check_char(CREDIT_CODE[:17]) == "3"


@pytest.mark.parametrize("text,hint", [
    ("91350100M000100Y44", "check character"),  # wrong check character
    ("91350100M000100YX3", "check character"),
    ("91350100I000100Y43", "cannot contain: I"),  # letters outside the code set
    ("91350100O000100Y43", "cannot contain: O"),
    ("91350100Z000100Y43", "cannot contain: Z"),
    ("91350100S000100Y43", "cannot contain: S"),
    ("91350100V000100Y43", "cannot contain: V"),
    ("9135010!M000100Y43", "cannot contain: !"),
    ("91AB0100M000100Y43", "area code"),
    ("91350100M000100Y4", "18 characters"),
    ("", "Enter"),
])
def test_credit_code_refusals(text, hint):
    from core.errors import ValidationError
    from core.real_name import check_credit_code

    with pytest.raises(ValidationError) as info:
        check_credit_code(text)
    assert hint in info.value.message
    assert info.value.field == "rn-credit-code"


# --- individual registration -------------------------------------------------------------------

def test_individual_even_last_digit_is_approved_and_masked(token):
    from core.accounts import overview_page
    from core.models import RealNameRegistration
    from core.real_name import real_name_status, submit_individual

    assert real_name_status(token).status == "none"
    assert real_name_status(token).can_submit
    number = resident_id_ending("approve")
    view = submit_individual(token, "  Li Lei ", "resident_id", number)
    assert view.status == "approved" and view.kind == "individual"
    assert view.legal_name == "Li Lei"
    assert number not in repr(view) and number not in str(view.__dict__)
    assert view.id_number_masked.startswith(number[:3]) and "•" in view.id_number_masked
    assert RealNameRegistration.get().id_number == number  # stored, shown masked
    assert not real_name_status(token).can_submit
    assert overview_page(token).real_name_status == "approved"


def test_individual_odd_last_digit_is_rejected_then_resubmitted(token):
    from core.models import RealNameRegistration
    from core.real_name import real_name_status, submit_individual

    view = submit_individual(token, "Li Lei", "resident_id", resident_id_ending("reject"))
    assert view.status == "rejected"
    assert view.reason == "identity could not be verified"
    assert "identity could not be verified" in real_name_status(token).status_text
    assert view.can_submit
    fixed = submit_individual(token, "Li Lei", "resident_id", resident_id_ending("approve"))
    assert fixed.status == "approved" and fixed.reason is None
    assert rows(RealNameRegistration) == 1  # the rejected one was replaced


@pytest.mark.parametrize("id_type,number", [("passport", "E12345671"),
                                            ("hk_macao_permit", "H12345671"),
                                            ("taiwan_permit", "12345671")])
def test_passports_and_permits_approved_when_well_formed(token, id_type, number):
    from core.real_name import submit_individual

    assert submit_individual(token, "Chan Tai Man", id_type, number).status == "approved"


def test_approved_cannot_be_replaced(token, tmp_path):
    from core.errors import Refused
    from core.real_name import submit_enterprise, submit_individual

    submit_individual(token, "Li Lei", "resident_id", PUBLISHED_RESIDENT_ID)
    with pytest.raises(Refused):
        submit_individual(token, "Li Lei", "passport", "E12345678")
    with pytest.raises(Refused):
        submit_enterprise(token, "Acme", CREDIT_CODE, "Li Lei", licence(tmp_path))
    assert uploads() == []


def test_identity_provider_is_replaceable(token):
    from core.gateway.identity import IdentityDecision, set_identity_verifier
    from core.real_name import submit_individual

    class Strict:
        def verify_individual(self, legal_name, id_type, id_number):
            return IdentityDecision(False, "name and number do not match")

    set_identity_verifier(Strict())
    try:
        view = submit_individual(token, "Li Lei", "resident_id", PUBLISHED_RESIDENT_ID)
    finally:
        set_identity_verifier(None)
    assert view.status == "rejected" and view.reason == "name and number do not match"


@pytest.mark.parametrize("name", ["", "   ", "x" * 10_001, "Li\nLei", "Li\x00Lei",
                                  "\x1b[2JLi", "Li\u202eLei", "Li\u200bLei",
                                  "\x1b]52;c;aGk=\x07"])
def test_bad_names_are_refused_and_nothing_stored(token, name):
    from core.errors import ValidationError
    from core.models import RealNameRegistration
    from core.real_name import submit_individual

    with pytest.raises(ValidationError) as info:
        submit_individual(token, name, "resident_id", PUBLISHED_RESIDENT_ID)
    assert info.value.field == "rn-name"
    assert rows(RealNameRegistration) == 0


@pytest.mark.parametrize("name", ["O'Hara", "Zoë", "ねこ", "Мария", "[bold]x[/]",
                                  "'; DROP TABLE account; --", "李雷"])
def test_real_names_and_odd_text_are_kept_as_typed(token, name):
    from core.real_name import submit_individual

    assert submit_individual(token, name, "passport", "E12345678").legal_name == name


def test_unverified_account_cannot_register(signed_up):
    from core.errors import Refused
    from core.real_name import submit_individual

    result, _ = signed_up
    with pytest.raises(Refused):
        submit_individual(result.token, "Li Lei", "passport", "E12345678")


# --- enterprise registration -------------------------------------------------------------------

def test_enterprise_is_pending_with_a_private_copy_of_the_licence(token, tmp_path):
    from core.models import RealNameRegistration
    from core.real_name import ENTERPRISE_WARNING, real_name_status, submit_enterprise

    assert "cannot be undone" in ENTERPRISE_WARNING
    source = licence(tmp_path, name="My Company Licence.pdf")
    view = submit_enterprise(token, "Acme Cloud Co., Ltd.", CREDIT_CODE, "Li Lei", source)
    assert view.status == "pending" and view.kind == "enterprise"
    assert "3 business days" in view.status_text
    assert view.credit_code == CREDIT_CODE and view.has_licence
    (copy,) = uploads()
    assert copy.read_bytes() == PDF
    assert "My Company" not in copy.name and copy.suffix == ".pdf"
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    assert RealNameRegistration.get().licence_path == str(copy)
    assert real_name_status(token).status == "pending"


@pytest.mark.parametrize("content,suffix", [(PNG, ".png"), (JPEG, ".jpg")])
def test_png_and_jpeg_licences_by_content(token, tmp_path, content, suffix):
    from core.real_name import submit_enterprise

    source = licence(tmp_path, content, name="scan.dat")  # the extension does not matter
    submit_enterprise(token, "Acme", CREDIT_CODE, "Li Lei", source)
    (copy,) = uploads()
    assert copy.suffix == suffix


def test_pending_cannot_be_resubmitted(token, tmp_path):
    from core.errors import Refused
    from core.real_name import submit_enterprise, submit_individual

    submit_enterprise(token, "Acme", CREDIT_CODE, "Li Lei", licence(tmp_path))
    with pytest.raises(Refused) as info:
        submit_enterprise(token, "Acme 2", CREDIT_CODE_2, "Li Lei", licence(tmp_path))
    assert "waiting for review" in info.value.message
    with pytest.raises(Refused):
        submit_individual(token, "Li Lei", "resident_id", PUBLISHED_RESIDENT_ID)
    assert len(uploads()) == 1


def test_licence_exactly_10_mb_is_accepted(token, tmp_path):
    from core.real_name import LICENCE_MAX_BYTES, submit_enterprise

    path = tmp_path / "big.pdf"
    with path.open("wb") as handle:
        handle.write(PDF)
        handle.truncate(LICENCE_MAX_BYTES)
    assert submit_enterprise(token, "Acme", CREDIT_CODE, "Li Lei", str(path)).status == "pending"
    (copy,) = uploads()
    assert copy.stat().st_size == LICENCE_MAX_BYTES


def _sparse(tmp_path, size: int):
    path = tmp_path / "huge.pdf"
    with path.open("wb") as handle:
        handle.write(PDF)
        handle.truncate(size)
    return str(path)


@pytest.mark.parametrize("case,hint", [
    ("missing", "no file"),
    ("directory", "folder"),
    ("too-large", "at most 10 MB"),
    ("text", "PDF, PNG or JPEG"),
    ("empty", "PDF, PNG or JPEG"),
    ("blank", "Enter"),
    ("newline", "cannot be used"),
    ("fifo", "not a regular file"),
])
def test_bad_licence_files(token, tmp_path, case, hint):
    from core.errors import ValidationError
    from core.models import RealNameRegistration
    from core.real_name import submit_enterprise

    paths = {
        "missing": lambda: str(tmp_path / "nope.pdf"),
        "directory": lambda: str(tmp_path),
        "too-large": lambda: _sparse(tmp_path, 11 * 1024 * 1024),
        "text": lambda: licence(tmp_path, b"just text, named like a PDF\n", "fake.pdf"),
        "empty": lambda: licence(tmp_path, b"", "empty.pdf"),
        "blank": lambda: "   ",
        "newline": lambda: str(tmp_path / "a.pdf") + "\n/etc/passwd",
        "fifo": lambda: (os.mkfifo(tmp_path / "pipe.pdf"), str(tmp_path / "pipe.pdf"))[1],
    }
    with pytest.raises(ValidationError) as info:
        submit_enterprise(token, "Acme", CREDIT_CODE, "Li Lei", paths[case]())
    assert hint in info.value.message
    assert info.value.field == "rn-licence"
    assert rows(RealNameRegistration) == 0
    assert uploads() == []


@pytest.mark.parametrize("company,code,rep,field", [
    ("", CREDIT_CODE, "Li Lei", "rn-company"),
    ("Acme\x1b[2J", CREDIT_CODE, "Li Lei", "rn-company"),
    ("Acme", "91350100M000100Y44", "Li Lei", "rn-credit-code"),
    ("Acme", "91350100I000100Y43", "Li Lei", "rn-credit-code"),
    ("Acme", CREDIT_CODE, "", "rn-legal-rep"),
    ("Acme", CREDIT_CODE, "L" * 10_001, "rn-legal-rep"),
])
def test_enterprise_field_errors_store_nothing(token, tmp_path, company, code, rep, field):
    from core.errors import ValidationError
    from core.models import RealNameRegistration
    from core.real_name import submit_enterprise

    with pytest.raises(ValidationError) as info:
        submit_enterprise(token, company, code, rep, licence(tmp_path))
    assert info.value.field == field
    assert rows(RealNameRegistration) == 0 and uploads() == []


# --- operator review ---------------------------------------------------------------------------

def test_review_functions(token, tmp_path, clock):
    from core.errors import NotFound, Refused, ValidationError
    from core.real_name import (
        approve_enterprise,
        list_pending_reviews,
        real_name_status,
        reject_enterprise,
        submit_enterprise,
    )

    assert list_pending_reviews() == []
    with pytest.raises(Refused):
        approve_enterprise("alice@example.com")  # nothing pending
    with pytest.raises(NotFound):
        approve_enterprise("nobody@example.com")
    submit_enterprise(token, "Acme", CREDIT_CODE, "Li Lei", licence(tmp_path))
    (item,) = list_pending_reviews()
    assert (item.email, item.company_name, item.submitted_at) == ("alice@example.com", "Acme",
                                                                  START)
    with pytest.raises(ValidationError):
        reject_enterprise("alice@example.com", "  ")
    clock.advance(timedelta(minutes=20))
    first_copy = uploads()
    view = reject_enterprise("ALICE@example.com", "The licence scan is unreadable")
    assert view.status == "rejected" and view.reason == "The licence scan is unreadable"
    assert list_pending_reviews() == []
    assert "unreadable" in real_name_status(token).status_text
    # corrected and resubmitted: pending again, the old copy removed
    submit_enterprise(token, "Acme", CREDIT_CODE, "Li Lei", licence(tmp_path, PNG, "s.png"))
    assert uploads() != first_copy and len(uploads()) == 1
    approved = approve_enterprise("alice@example.com")
    assert approved.status == "approved" and approved.reviewed_at == START + timedelta(minutes=20)
    with pytest.raises(Refused):
        approve_enterprise("alice@example.com")


def test_review_cli(token, tmp_path, capsys):
    from core.real_name import real_name_status, submit_enterprise
    from tui.cli import main

    assert main(["review", "list"]) == 0
    assert "No enterprise registration" in capsys.readouterr().out
    submit_enterprise(token, "Acme [bold]", CREDIT_CODE, "Li Lei", licence(tmp_path))
    assert main(["review", "list"]) == 0
    out = capsys.readouterr().out
    assert "alice@example.com" in out and "Acme [bold]" in out and "2026-12-01T10:00:00Z" in out

    assert main(["review", "approve", "nobody@example.com"]) == 1
    err = capsys.readouterr().err
    assert "nobody@example.com" in err and len(err.strip().splitlines()) == 1

    assert main(["review", "reject", "alice@example.com", "--reason", "Blurry scan"]) == 0
    assert real_name_status(token).status == "rejected"
    assert main(["review", "reject", "alice@example.com", "--reason", "again"]) == 1
    assert "no enterprise registration waiting" in capsys.readouterr().err

    submit_enterprise(token, "Acme", CREDIT_CODE, "Li Lei", licence(tmp_path))
    assert main(["review", "approve", "alice@example.com"]) == 0
    assert "Approved" in capsys.readouterr().out
    assert real_name_status(token).status == "approved"
    assert main(["review", "approve", "alice@example.com"]) == 1


@pytest.mark.parametrize("argv", [["review"], ["review", "approve"], ["review", "reject", "a@b.c"],
                                  ["review", "frobnicate"]])
def test_review_cli_bad_usage_exits_2(db, argv, capsys):
    from tui.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2
