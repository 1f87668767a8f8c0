"""Every Spanish sentence the user reads, in one place so wording is reviewed here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandTexts:
    """What the user reads about one command; `usage` and `example` are plain text."""

    menu: str  # its line in the phones' menu and in /ayuda
    usage: str = ""  # how it is written, in the usage message
    example: str = ""  # shown in /ayuda and the usage message
    button: str = ""  # label of its button under a plain message


@dataclass(frozen=True)
class Noun:
    """A counted noun in both numbers, so that a count always agrees with it."""

    one: str
    many: str

    def count(self, number: int) -> str:
        """ "1 minuto", "5 minutos"."""
        return f"{number} {self.one if number == 1 else self.many}"


CHARACTERS = Noun("carácter", "caracteres")
TOKENS = Noun("token", "tokens")
WORDS = Noun("palabra", "palabras")
MINUTES = Noun("minuto", "minutos")
SECONDS = Noun("segundo", "segundos")
HOURS = Noun("hora", "horas")
MESSAGES = Noun("mensaje", "mensajes")

# /tokens: the name a user types before ":" -> the task whose model's tokenizer it shows.
# The names are the commands that use each model; a task key (zero_shot...) also works.
TOKENIZER_NAMES: dict[str, str] = {
    "clasificar": "zero_shot",
    "completar": "fill_mask",
    "traducir": "translate_es_en",
    "traducir_en": "translate_en_es",
    "resumir": "summarize",
    "pregunta": "qa",
    "poema": "poem",
    "pos": "pos",
    "sentimiento": "sentiment",
    "idioma": "language",
}

# One entry per command of handlers/commands.py, under its name.
COMMAND_TEXTS: dict[str, CommandTexts] = {
    "ayuda": CommandTexts(menu="Qué sé hacer y cómo pedírmelo"),
    "traducir": CommandTexts(
        menu="Traducir entre español e inglés",
        usage="/traducir <texto>  (en: o es: delante para elegir el idioma de llegada)",
        example="/traducir Hoy hace un día precioso",
        button="🌍 Traducir",
    ),
    "resumir": CommandTexts(
        menu="Resumir un texto",
        usage="/resumir <texto>",
        example="/resumir (pega aquí un texto largo)",
        button="📝 Resumir",
    ),
    "contexto": CommandTexts(
        menu="Fijar el texto de lectura del chat",
        usage="/contexto <texto>, o responde con /contexto a un mensaje, o envía un .txt",
        example="/contexto El Quijote fue escrito por Miguel de Cervantes en 1605.",
        button="📖 Contexto",
    ),
    "pregunta": CommandTexts(
        menu="Preguntar sobre el texto de lectura",
        usage="/pregunta <pregunta>",
        example="/pregunta ¿Quién escribió el Quijote?",
    ),
    "fin": CommandTexts(menu="Salir del modo preguntas"),
    "olvidar": CommandTexts(menu="Borrar todo lo guardado de este chat"),
    "clasificar": CommandTexts(
        menu="Clasificar un texto con tus etiquetas",
        usage="/clasificar <texto> | etiqueta, etiqueta, ...",
        example="/clasificar El Madrid ganó la final | deportes, política, economía",
        button="🏷️ Clasificar",
    ),
    "sentimiento": CommandTexts(
        menu="Sentimiento de un texto",
        usage="/sentimiento <texto>",
        example="/sentimiento Me encantó la película",
        button="😊 Sentimiento",
    ),
    "idioma": CommandTexts(
        menu="Detectar el idioma",
        usage="/idioma <texto>",
        example="/idioma Bonjour tout le monde",
        button="🔤 Idioma",
    ),
    "completar": CommandTexts(
        menu="Completar la palabra que falta",
        usage="/completar <texto con <mask> donde falta la palabra>",
        example="/completar La capital de Francia es <mask>.",
    ),
    "poema": CommandTexts(
        menu="Escribir un poema a partir de un comienzo",
        usage="/poema <comienzo del poema>",
        example="/poema La luna sobre el mar",
    ),
    "pos": CommandTexts(
        menu="Categoría gramatical de cada palabra",
        usage="/pos <texto>",
        example="/pos El gato duerme en el sofá",
        button="🔎 POS",
    ),
    "transcribir": CommandTexts(
        menu="Transcribir una nota de voz, un audio o una videonota",
        usage="/transcribir respondiendo a una nota de voz, un audio o una videonota",
        example="/transcribir",
    ),
    "estado": CommandTexts(menu="Estado de los modelos (administradores)"),
    "autotraducir": CommandTexts(
        menu="Grupos: traducir al español los mensajes en inglés (lo activa un administrador)",
        usage="/autotraducir on|off",
        example="/autotraducir on",
    ),
    "memoria": CommandTexts(
        menu="Grupos: recordar los mensajes de las últimas horas (lo activa un administrador)",
        usage="/memoria on|off",
        example="/memoria on",
    ),
    "resumen_chat": CommandTexts(
        menu="Grupos: resumir los últimos mensajes, con /memoria activada",
        usage="/resumen_chat [cuántos mensajes, de 1 a 200; 50 si no lo dices]",
        example="/resumen_chat 30",
    ),
    "tokens": CommandTexts(
        menu="Ver cómo corta un texto en tokens un modelo",
        usage=(
            "/tokens <texto>, o /tokens modelo: <texto> con el modelo de un comando: "
            + ", ".join(TOKENIZER_NAMES)
        ),
        example="/tokens completar: Hola mundo",
    ),
}

WELCOME = (
    "¡Hola! Soy <b>Tertulia</b>, tu asistente de lenguaje. Traduzco, resumo, respondo "
    "preguntas sobre un texto, clasifico, completo palabras, escribo poemas y analizo "
    "frases. En grupos, responde a un mensaje con un comando para usarlo sobre ese mensaje."
)
HELP_TITLE = "<b>Comandos</b>"
HELP_FOOTER = (
    "En un chat privado también puedes enviarme un texto sin comando y elegir qué hago con él."
)

# Errors
ERROR_MODEL_UNAVAILABLE = (
    "⚠️ Ahora mismo no puedo usar el modelo de {task} (<code>{model}</code>). "
    "Inténtalo más tarde; el resto de funciones siguen disponibles."
)
ERROR_BUSY = "⏳ Estoy ocupado, prueba en unos segundos."
ERROR_RESTARTING = "🔄 Me estoy reiniciando. Vuelve a enviármelo en un minuto."
ERROR_NO_MEMORY = (
    "🧠 Ahora mismo no me queda memoria para el modelo de {task}: otros modelos están "
    "trabajando. Inténtalo de nuevo en un minuto."
)
ERROR_TOO_LONG = (
    "✂️ El texto es demasiado largo: tiene {length} caracteres y el máximo es {limit}. "
    "Envíame un fragmento más corto."
)
ERROR_INVALID = "🤔 No he podido procesar ese texto. Revisa el formato con /ayuda."
ERROR_INFERENCE = (
    "😓 El modelo de {task} ha fallado con este texto. Prueba con otro texto o más tarde."
)
ERROR_UNEXPECTED = (
    "😓 Lo siento, algo ha salido mal. Si vuelve a pasar, comunica este código: "
    "<code>{error_id}</code>."
)
ERROR_STORE = "😓 No puedo acceder a mis datos guardados ahora mismo. Inténtalo en unos minutos."
ERROR_DOCUMENT_TOO_BIG = "📄 El documento es demasiado grande: el máximo es {limit_kb} KB."
ERROR_DOCUMENT_KIND = (
    "📄 Leo documentos PDF, Word (<code>.docx</code>), HTML, Markdown (<code>.md</code>) "
    "y de texto (<code>.txt</code>)."
)
ERROR_DOCUMENT_ENCODING = "📄 No he podido leer el documento como texto UTF-8."
ERROR_DOCUMENT_ENCRYPTED = "🔒 El documento está protegido con contraseña: no puedo abrirlo."
ERROR_DOCUMENT_SCANNED = (
    "📄 El PDF no tiene texto que pueda leer: parece una imagen escaneada, y no leo imágenes."
)
ERROR_DOCUMENT_EMPTY = "📄 No he encontrado texto en el documento."
ERROR_DOCUMENT_BROKEN = "📄 El documento está dañado o no es lo que dice ser: no he podido abrirlo."
ERROR_DOCUMENT_BOMB = (
    "📄 El documento se descomprime en algo desmesurado para su tamaño: no lo abro."
)
# Voice notes, audio files and video notes (handlers/transcribir.py).
TRANSCRIPT = "🎙️ <b>Transcripción</b>: {text}"
TRANSCRIPT_LANGUAGE = "<i>Idioma detectado: {language}.</i>"
TRANSCRIPT_EMPTY = "🎙️ No he oído nada que transcribir: la nota parece estar en silencio."
ERROR_AUDIO_TOO_LONG = (
    "🎙️ El audio dura {seconds} y el máximo que transcribo es {limit}. "
    "Envíame uno más corto o pártelo en varios."
)
ERROR_AUDIO_OVER_LIMIT = (
    "🎙️ El audio dura más de {limit}, lo máximo que transcribo. "
    "Envíame uno más corto o pártelo en varios."
)
ERROR_AUDIO_TOO_BIG = "🎙️ El archivo de audio es demasiado grande: el máximo es {limit_mb} MB."
ERROR_AUDIO_UNREADABLE = (
    "🎙️ No he podido leer ese audio: parece dañado o en un formato que no conozco."
)
ERROR_AUDIO_NO_SOUND = "🎙️ Ese archivo no tiene sonido que pueda transcribir."
ERROR_AUDIO_DOWNLOAD = "🎙️ No he podido descargar el audio de Telegram. Prueba a enviarlo otra vez."
ERROR_DOCUMENT_TIMEOUT = "📄 Leer el documento ha tardado demasiado. Prueba con uno más pequeño."
# Links: a message that is only a web address reads that page.
LINK_TITLE = "🔗 <b>{title}</b>"
ERROR_LINK_SCHEME = "🔗 Solo leo enlaces <code>http://</code> y <code>https://</code>."
ERROR_LINK_ADDRESS = (
    "🔒 No leo <b>{host}</b>: apunta a una red privada o local, no a una página pública."
)
ERROR_LINK_NO_NAME = "🔗 No encuentro el sitio <b>{host}</b>. Revisa el enlace."
ERROR_LINK_UNREACHABLE = "🔗 No he podido conectar con <b>{host}</b>. Prueba más tarde."
ERROR_LINK_TIMEOUT = "⏱️ La página tardó demasiado en responder (más de {seconds} s)."
ERROR_LINK_TOO_BIG = "🔗 La página es demasiado grande: leo como mucho {limit_kb} KB."
ERROR_LINK_KIND = (
    "🔗 Ese enlace no es una página web sino <code>{kind}</code>: solo leo HTML y texto."
)
ERROR_LINK_HTTP = "🔗 La página respondió con un error (HTTP {status})."
ERROR_LINK_REDIRECTS = "🔗 El enlace redirige demasiadas veces (más de {limit})."
ERROR_LINK_NO_TEXT = "🔗 No he encontrado texto que leer en esa página."
ERROR_EXPIRED_BUTTON = "Ese botón ya no funciona. Envíame el texto de nuevo."
NOT_ALLOWED = "Lo siento, este bot no está disponible en este chat."
RATE_LIMITED = "🐢 Vas muy rápido. Espera {seconds} y vuelve a intentarlo."
ADMIN_ONLY = "Este comando es solo para administradores."
UNKNOWN_COMMAND = "No conozco ese comando. Escribe /ayuda para ver lo que sé hacer."

USAGE = "Uso: {usage}\nEjemplo: <code>{example}</code>"

# How each task is named in messages ("el modelo de {task}").
TASK_NAMES: dict[str, str] = {
    "translate_es_en": "traducción del español al inglés",
    "translate_en_es": "traducción del inglés al español",
    "summarize": "resúmenes",
    "qa": "preguntas y respuestas",
    "zero_shot": "clasificación",
    "fill_mask": "completar palabras",
    "poem": "poemas",
    "pos": "análisis gramatical",
    "sentiment": "sentimiento",
    "language": "detección de idioma",
    "transcribe": "transcripción de audio",
}

# Transports
CONSOLE_INTRO = (
    "Tertulia en la consola. Escribe un comando (/ayuda para verlos) o un texto; Ctrl+D para salir."
)
CONSOLE_LOG_FILE = "Los mensajes técnicos van a {path}."
CONSOLE_TELEGRAM_HINT = (
    "Para conectar Telegram, pon TELEGRAM_BOT_TOKEN=<token de @BotFather> en el entorno o en .env."
)
CONSOLE_CHOOSE = "Elige un número o escribe otro mensaje:"
CONSOLE_BAD_CHOICE = "Ese número no corresponde a ninguna opción."
CONSOLE_NO_MENU = (
    "Ahora no hay opciones que elegir con un número. Escribe un texto o un comando "
    "(/ayuda para verlos)."
)
CONSOLE_PROMPT = "> "
CONSOLE_PROMPT_QUESTIONS = "(preguntas) > "
CONSOLE_AUTHOR = "Operador"  # the console's name where a group's memory would record one
SHUTTING_DOWN = "🔄 Me estoy reiniciando. Vuelve a enviarme tu mensaje en un momento."

# Figures shared by several answers.
PERCENT = "{value}\u00a0%"
TRUNCATED_NOTE = "<i>✂️ El texto era muy largo: solo he tenido en cuenta una parte.</i>"

# /traducir
LANGUAGE_PAIR = "<i>{source} → {target}</i>"
TRANSLATION_TRUNCATED = "<i>✂️ El texto era muy largo y la traducción puede estar incompleta.</i>"
TRANSLATION_EMPTY = "🤔 No me ha salido ninguna traducción para ese texto. Prueba a reformularlo."
TRANSLATE_UNSUPPORTED = (
    "🌍 Ese texto parece estar en <b>{language}</b>, y solo traduzco entre español e inglés.\n"
    "Si me he equivocado de idioma, dime hacia cuál traducir: "
    "<code>/traducir en: …</code> (al inglés) o <code>/traducir es: …</code> (al español)."
)
TRANSLATE_UNKNOWN_LANGUAGE = (
    "🤔 No sé en qué idioma está ese texto. Dime hacia cuál traducir: "
    "<code>/traducir en: …</code> (al inglés) o <code>/traducir es: …</code> (al español)."
)

# /resumir
SUMMARY_TITLE = "<b>📝 Resumen</b>"
SUMMARY_EMPTY = (
    "🤔 No he sabido resumir ese texto: no me ha salido nada. "
    "Prueba con un texto más largo o escrito de otra manera."
)
SUMMARY_TRUNCATED = "<i>✂️ El texto era muy largo: el resumen solo cubre una parte.</i>"

# /contexto and /olvidar
CONTEXT_SET = (
    "📖 Guardado como texto de lectura de este chat: {chars} ({words}).\n"
    "Pregunta con <code>/pregunta ¿…?</code>, o envía /pregunta a secas para hacer varias "
    "preguntas seguidas."
)
CONTEXT_APPENDED = (
    "📖 Mensaje añadido al texto de lectura, que ahora tiene {chars} ({words}).\n"
    "Pregunta con <code>/pregunta ¿…?</code>, o envía /pregunta a secas para hacer varias "
    "preguntas seguidas."
)
FORGOTTEN = (
    "🧹 He borrado todo lo que tenía guardado de este chat: el texto de lectura, "
    "el modo preguntas y los textos de los botones."
)

# /pregunta and /fin
NO_CONTEXT = (
    "📖 Este chat aún no tiene texto de lectura sobre el que preguntar. Fíjalo con "
    "<code>/contexto &lt;texto&gt;</code>, respondiendo con /contexto a un mensaje o enviando "
    "un .txt con /contexto; también puedes responder con /pregunta al mensaje que quieras."
)
ANSWER = "💬 <b>{answer}</b>"
ANSWER_CONFIDENCE = "Confianza: {level} ({percent})"
ANSWER_SOURCE = "Lo saco de esta frase:\n<blockquote>{sentence}</blockquote>"
CONFIDENCE_LEVELS: dict[str, str] = {"high": "alta", "medium": "media", "low": "baja"}
QUESTION_TRUNCATED = "<i>✂️ La pregunta era muy larga: solo he leído su principio.</i>"
NO_ANSWER = "🤷 No encuentro la respuesta en el texto de lectura."
QUESTIONS_STARTED = (
    "❓ Modo preguntas activado: cada mensaje que me escribas será una pregunta sobre el "
    "texto de lectura ({chars}). Escribe /fin para terminar; termina solo tras "
    "{minutes} sin preguntas."
)
QUESTIONS_STILL_ON = "❓ Sigues en modo preguntas (/fin para salir)."
QUESTIONS_ENDED = "👋 Fin del modo preguntas. Puedes volver cuando quieras con /pregunta."
QUESTIONS_NOT_ACTIVE = "No estabas en el modo preguntas. Empieza con /pregunta."

# /clasificar
CLASSIFY_TITLE = "<b>🏷️ Clasificación</b>"
CLASSIFY_DEFAULT_LABELS = (
    "<i>Con las etiquetas de siempre. Usa las tuyas así: "
    "<code>/clasificar texto | etiqueta, etiqueta</code></i>"
)
CLASSIFY_NO_LABELS = (
    "🏷️ Después de la barra <code>|</code> faltan las etiquetas, separadas por comas. "
    "Ejemplo: <code>{example}</code>"
)
CLASSIFY_TOO_MANY_LABELS = "🏷️ Son demasiadas etiquetas: has puesto {count} y el máximo es {limit}."
CLASSIFY_LABEL_TOO_LONG = (
    "🏷️ Cada etiqueta puede tener como mucho {limit} caracteres; usa palabras cortas."
)

# /sentimiento
SENTIMENT_TITLE = "Sentimiento: <b>{name}</b> {emoji}"
SENTIMENT_NAMES: dict[str, str] = {"POS": "positivo", "NEG": "negativo", "NEU": "neutro"}
SENTIMENT_EMOJI: dict[str, str] = {"POS": "😊", "NEG": "😞", "NEU": "😐"}

# /idioma
LANGUAGE_TITLE = "🌍 Idioma: <b>{name}</b> ({percent})"
LANGUAGE_RUNNERS_UP = "Otras posibilidades: {others}"
LANGUAGE_TOO_SHORT = (
    "<i>⚠️ Es un texto muy corto: con tan pocas palabras no puedo estar seguro del idioma.</i>"
)
LANGUAGE_UNKNOWN = "🤔 No sé en qué idioma está ese texto: no tiene palabras en las que fijarme."

# /completar
MASK_MISSING = (
    "✏️ Marca con <code>&lt;mask&gt;</code> (o <code>___</code>, o <code>[MASK]</code>) "
    "la palabra que falta. Ejemplo: <code>{example}</code>"
)
MASK_TOO_MANY = "✏️ Puedo completar como mucho {limit} huecos a la vez; has puesto {count}."
FILL_TITLE = "<b>✏️ Palabras más probables</b>"
FILL_GAP_TITLE = "<b>Hueco {number}</b>"
FILL_BEST = "<i>{sentence}</i>"
FILL_NONE = "🤔 No se me ocurre ninguna palabra para ese hueco."

# /poema
POEM_EMPTY = "🤔 Hoy no me sale ningún verso con ese comienzo. Prueba con otro."
POEM_TRUNCATED = "<i>✂️ El comienzo era muy largo: he seguido desde su final.</i>"
POEM_AGAIN = "🔁 Otro"

# /pos
POS_TITLE = "<b>🔎 Análisis gramatical</b>"
POS_LINE = "{word} — <i>{name}</i>"
POS_NO_WORDS = "🤔 No encuentro palabras que analizar en ese texto."
POS_NAMES: dict[str, str] = {
    "ADJ": "adjetivo",
    "ADP": "preposición",
    "ADV": "adverbio",
    "AUX": "verbo auxiliar",
    "CCONJ": "conjunción coordinante",
    "DET": "determinante",
    "INTJ": "interjección",
    "NOUN": "sustantivo",
    "NUM": "numeral",
    "PART": "partícula",
    "PRON": "pronombre",
    "PROPN": "nombre propio",
    "PUNCT": "signo de puntuación",
    "SCONJ": "conjunción subordinante",
    "SYM": "símbolo",
    "VERB": "verbo",
    "X": "otro",
}

# /tokens
TOKENS_TITLE = "<b>🧩 Tokens del modelo de /{name}</b>"
TOKENS_COUNT = "{count} ({special} especiales, que añade el tokenizador):"
TOKENS_UNKNOWN_MARK = "❓"
TOKENS_UNKNOWN_NOTE = (
    "<i>❓ El tokenizador no conoce esos caracteres: el modelo solo recibe un token de "
    "«desconocido».</i>"
)
TOKENS_SPLIT_TITLE = "<b>Palabras partidas en varios tokens</b>"
TOKENS_SPLIT_WORD = "{word} → {pieces}"
TOKENS_NONE_SPLIT = "<i>Ninguna palabra se ha partido: cada una es un token.</i>"
TOKENS_COMPARISON = "⚖️ Comparación: /{name} {count} · /{other} {other_count}"

# Inline mode (@Bot texto in any chat); the results' titles are the commands' buttons.
INLINE_HELP_TITLE = "✍️ Escribe un texto después de mi nombre"
INLINE_HELP = (
    "Escribe <code>@{bot} texto</code> en cualquier chat y elige: traducción, sentimiento o "
    "idioma del texto (y un resumen si es largo). El mensaje se envía en tu nombre."
)
INLINE_TOO_LONG_TITLE = "✂️ Texto demasiado largo"
INLINE_TOO_LONG = (
    "✂️ En modo en línea caben como mucho {limit} caracteres. Para textos más largos, "
    "envíamelos en un chat privado con @{bot}."
)
INLINE_WORKING_TITLE = "⏳ Aún estoy trabajando"
INLINE_WORKING = "⏳ Aún estoy preparando la respuesta. Vuelve a intentarlo en unos segundos."
INLINE_REFUSED_TITLE = "🚫 Ahora no puedo"
INLINE_ERROR_TITLE = "😓 No ha salido bien"
INLINE_ERROR = "😓 Lo siento, algo ha salido mal. Inténtalo de nuevo en un momento."

# Plain messages: what to do with a text
CHOOSE_ACTION = "¿Qué hago con este texto?"
SEND_SOME_TEXT = "Envíame un texto y elige qué hago con él, o escribe /ayuda para ver los comandos."

# /estado and the `status` command (plain text: escaped where shown as HTML)
STATUS_TITLE = "<b>⚙️ Estado de los modelos</b>"
STATUS_DEVICE = "Dispositivo: {device} · {dtype}"
STATUS_MEMORY = "Memoria de modelos: {used} de {budget}"
STATUS_MEMORY_UNLIMITED = "Memoria de modelos: {used} (sin límite)"
STATUS_MODEL_LOADED = "● {key}: cargado · {size} · en {device} ({dtype}) · carga {seconds}"
STATUS_MODEL_IDLE = "○ {key}: sin cargar"
STATUS_MODEL_ID = "   {model}"
STATUS_MODEL_TRAFFIC = (
    "   peticiones: {requests} · cargas: {loads} · en curso: {in_flight} · en cola: {queued}"
)
STATUS_MODEL_BATCHES = "   lotes: {batches} (media de {mean}) · espera p50 {p50} · p95 {p95}"
STATUS_MODEL_FAILURES = "   ⚠️ fallos: {failures}; el último: {error}"
# ENGINE_BACKEND=ray: the model server's replicas, before the models they add up to.
STATUS_REPLICAS = "Servidor de modelos (Ray Serve): {count} réplica(s)"
STATUS_NO_REPLICAS = "⚠️ Servidor de modelos (Ray Serve): ninguna réplica responde"
STATUS_REPLICA = "▸ réplica {replica} · {node} · pid {pid} · {device} ({dtype}) · modelos: {used}"
STATUS_REPLICA_SILENT = "   ⚠️ sin noticias desde hace {seconds}"

# Language names for the ISO 639 codes the engine returns (/idioma, /traducir)
LANGUAGE_NAMES: dict[str, str] = {
    "af": "afrikáans", "ar": "árabe", "bg": "búlgaro", "bn": "bengalí", "ca": "catalán",
    "cs": "checo", "cy": "galés", "da": "danés", "de": "alemán", "el": "griego",
    "en": "inglés", "es": "español", "et": "estonio", "eu": "euskera", "fa": "persa",
    "fi": "finés", "fr": "francés", "gl": "gallego", "gu": "guyaratí", "he": "hebreo",
    "hi": "hindi", "hr": "croata", "hu": "húngaro", "id": "indonesio", "it": "italiano",
    "ja": "japonés", "kn": "canarés", "ko": "coreano", "lt": "lituano", "lv": "letón",
    "mk": "macedonio", "ml": "malayalam", "mr": "maratí", "ne": "nepalí", "nl": "neerlandés",
    "no": "noruego", "pa": "panyabí", "pl": "polaco", "pt": "portugués", "ro": "rumano",
    "ru": "ruso", "sk": "eslovaco", "sl": "esloveno", "so": "somalí", "sq": "albanés",
    "sv": "sueco", "sw": "suajili", "ta": "tamil", "te": "telugu", "th": "tailandés",
    "tl": "tagalo", "tr": "turco", "uk": "ucraniano", "ur": "urdu", "vi": "vietnamita",
    "zh": "chino", "zh-cn": "chino", "zh-tw": "chino tradicional", "und": "desconocido",
}  # fmt: skip

# /clasificar without labels: the DEFAULT_LABELS setting's default
DEFAULT_LABELS: tuple[str, ...] = ("deportes", "política", "economía", "tecnología", "cultura")

# Labels a model names that we have no Spanish name for (/pos, /sentimiento): never shown raw
POS_UNKNOWN_NAME = "otra categoría"
SENTIMENT_UNKNOWN_NAME = "otro sentimiento"

# A model's first use, while it comes from the hub (bot/progress.py), and when it cannot
MODEL_PREPARING = "⏳ Preparando el modelo de {task} (primera vez)…"
MODEL_PREPARING_SIZE = "⏳ Preparando el modelo de {task} (primera vez, ~{size})…"
MODEL_DOWNLOADED = "{bar} {percent} %"
ERROR_HUB_UNREACHABLE = (
    "📡 No puedo descargar el modelo de {task} (<code>{model}</code>): no hay conexión con "
    "Hugging Face. Para usarlo sin conexión, ejecuta <code>python -m bot prefetch</code> en un "
    "equipo con conexión, o apunta <code>{setting}</code> a una carpeta local con el modelo."
)

# Groups: /autotraducir, /memoria, /resumen_chat
GROUPS_ONLY = "👥 Este comando es para grupos: añádeme a uno y escríbelo allí."
GROUP_ADMINS_ONLY = "🔒 Solo un administrador del grupo puede activarlo o desactivarlo."
SWITCH_STATES: dict[bool, str] = {True: "activada", False: "desactivada"}
PRIVACY_MODE_HINT = (
    "<i>Para leer los mensajes del grupo necesito que un administrador me haga administrador, "
    "o que mi creador desactive el modo privacidad en @BotFather (/setprivacy).</i>"
)
AUTOTRANSLATE_STATUS = (
    "🌍 La traducción automática está <b>{state}</b> en este grupo. "
    "Un administrador la cambia con <code>/autotraducir on</code> o <code>off</code>."
)
AUTOTRANSLATE_ON = (
    "🌍 Traducción automática activada: a cada mensaje escrito en inglés (de {words} o más) "
    "responderé con su traducción al español. /autotraducir off la desactiva."
)
AUTOTRANSLATE_LIMIT = "Como mucho {count} por minuto, para no llenar el grupo."
AUTOTRANSLATE_OFF = "🌍 Traducción automática desactivada."
MEMORY_STATUS = (
    "🧠 La memoria del grupo está <b>{state}</b>. "
    "Un administrador la cambia con <code>/memoria on</code> o <code>off</code>."
)
MEMORY_ON = (
    "🧠 Memoria activada. Desde ahora guardo el nombre de quien escribe y el texto de cada "
    "mensaje del grupo (no comandos, fotos ni archivos): los últimos {keep}, cada uno "
    "durante {duration} como mucho, y solo para que /resumen_chat pueda resumirlos.\n"
    "Para borrarlo todo de una vez: /olvidar (cualquiera), o /memoria off, que además la "
    "desactiva."
)
MEMORY_OFF = "🧠 Memoria desactivada: he borrado los {count} del grupo que tenía guardados."
MEMORY_OFF_EMPTY = "🧠 Memoria desactivada. No tenía ningún mensaje del grupo guardado."
MEMORY_STILL_ON = (
    "🧠 También he borrado los mensajes del grupo que recordaba. La memoria sigue activada "
    "para los nuevos: /memoria off (un administrador) la desactiva."
)
CHAT_SUMMARY_MEMORY_OFF = (
    "🧠 No recuerdo los mensajes de este grupo: la memoria está desactivada. "
    "Un administrador puede activarla con /memoria on."
)
CHAT_SUMMARY_NOTHING = (
    "🧠 No tengo guardado ningún mensaje reciente de este grupo (los guardo {duration})."
)
CHAT_SUMMARY_TITLE = "<b>📝 Resumen de los últimos {count}</b>"
CHAT_SUMMARY_TITLE_ONE = "<b>📝 Resumen del último mensaje</b>"
CHAT_SUMMARY_PARTICIPANTS = "👥 Participantes: {people}"
CHAT_SUMMARY_PERSON = "{name} ({count})"
CHAT_SUMMARY_CUT = (
    "<i>✂️ Había más mensajes, pero juntos eran demasiado largos: "
    "he resumido los últimos {count}.</i>"
)
